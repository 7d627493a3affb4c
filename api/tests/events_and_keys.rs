//! Live events over SSE (visibility, resume with Last-Event-ID, several instances on one
//! store) and API keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use futures_util::StreamExt;
use helpdesk_api::{ApiConfig, RateLimits};
use serde_json::{Value, json};
use tower::ServiceExt;

use common::{TestApi, api_with};

fn fast() -> ApiConfig {
    ApiConfig::default()
        .rate_limits(RateLimits::unlimited())
        .event_poll_interval(Duration::from_millis(20))
}

/// One parsed SSE event.
#[derive(Debug, Clone)]
struct Sse {
    event: Option<String>,
    id: Option<String>,
    data: Option<Value>,
}

/// An open event stream.
struct Stream {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Stream {
    async fn open(router: &axum::Router, token: &str, last_event_id: Option<&str>) -> Self {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri("/events")
            .header("authorization", format!("Bearer {token}"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Self {
            body: response.into_body().into_data_stream(),
            buffer: String::new(),
        }
    }

    /// Events until `done` holds for the ones read so far, or 5 s pass.
    async fn until(&mut self, done: impl Fn(&[Sse]) -> bool) -> Vec<Sse> {
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !done(&events) {
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .unwrap_or_else(|_| panic!("timed out; got {events:?}"))
                .unwrap()
                .unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut sse = Sse {
                    event: None,
                    id: None,
                    data: None,
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        sse.event = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        sse.id = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        sse.data = Some(serde_json::from_str(v).unwrap());
                    }
                }
                events.push(sse);
            }
        }
        events
    }
}

fn of_type<'a>(events: &'a [Sse], kind: &str) -> Vec<&'a Sse> {
    events
        .iter()
        .filter(|e| e.event.as_deref() == Some(kind))
        .collect()
}

fn last_id(events: &[Sse]) -> String {
    events.iter().rev().find_map(|e| e.id.clone()).unwrap()
}

async fn reply(api: &TestApi, token: &str, id: &str, body: &str) {
    let r = api
        .call(
            Method::POST,
            &format!("/tickets/{id}/replies"),
            Some(token),
            Some(json!({"body": body})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
}

#[tokio::test]
async fn staff_see_new_tickets_live_and_customers_only_their_public_events() {
    let api = api_with(fast()).await;
    let mut agent = Stream::open(&api.router, &api.agent, None).await;
    let mut customer = Stream::open(&api.router, &api.customer, None).await;
    let mut neighbour = Stream::open(&api.router, &api.customer2, None).await;
    let mut other_tenant = Stream::open(&api.router, &api.other_admin, None).await;

    let (id, number) = api.open_ticket(&api.customer, "Live one").await;
    let note = api
        .call(
            Method::POST,
            &format!("/tickets/{id}/notes"),
            Some(&api.agent),
            Some(json!({"body": "secret note"})),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    reply(&api, &api.agent, &id, "public answer").await;

    let seen = agent
        .until(|e| of_type(e, "message_added").len() >= 2)
        .await;
    let created = of_type(&seen, "created");
    assert_eq!(created.len(), 1);
    let data = created[0].data.as_ref().unwrap();
    assert_eq!(data["ticket_number"], number);
    assert_eq!(data["data"]["ticket"]["subject"], "Live one");
    assert!(seen.iter().any(|e| e.id.is_some()));

    let staff_kinds: Vec<_> = of_type(&seen, "message_added")
        .iter()
        .map(|e| e.data.as_ref().unwrap()["data"]["kind"].clone())
        .collect();
    assert_eq!(staff_kinds, vec![json!("note"), json!("reply")]);

    let mine = customer
        .until(|e| !of_type(e, "message_added").is_empty())
        .await;
    assert_eq!(of_type(&mine, "created").len(), 1);
    let kinds: Vec<_> = mine.iter().filter_map(|e| e.event.clone()).collect();
    assert_eq!(
        kinds,
        vec!["created", "message_added"],
        "no note, triage, SLA or assignment"
    );
    assert_eq!(
        of_type(&mine, "message_added")[0].data.as_ref().unwrap()["data"]["kind"],
        "reply"
    );
    assert!(
        mine.iter().all(|e| e
            .data
            .as_ref()
            .is_none_or(|d| d["data"]["ticket"].get("internal").is_none())),
        "no internal ticket fields for customers"
    );

    // Another customer and another tenant get nothing but the opening comment.
    let (theirs, _) = api.open_ticket(&api.customer2, "Neighbour's").await;
    let nothing = neighbour.until(|e| !of_type(e, "created").is_empty()).await;
    assert!(nothing.iter().all(|e| {
        e.data
            .as_ref()
            .is_none_or(|d| d["ticket_id"] == theirs.as_str())
    }));
    let (foreign, _) = api.open_ticket(&api.other_customer, "Other tenant").await;
    let globex = other_tenant
        .until(|e| !of_type(e, "created").is_empty())
        .await;
    assert!(globex.iter().all(|e| {
        e.data
            .as_ref()
            .is_none_or(|d| d["ticket_id"] == foreign.as_str())
    }));
}

#[tokio::test]
async fn a_reconnect_with_last_event_id_misses_nothing() {
    let api = api_with(fast()).await;
    let (id, _) = api.open_ticket(&api.customer, "Resume me").await;
    let mut first = Stream::open(&api.router, &api.agent, None).await;
    reply(&api, &api.agent, &id, "one").await;
    let seen = first
        .until(|e| !of_type(e, "message_added").is_empty())
        .await;
    let resume_at = last_id(&seen);
    drop(first);

    // While disconnected.
    reply(&api, &api.agent, &id, "two").await;
    reply(&api, &api.customer, &id, "three").await;

    let mut again = Stream::open(&api.router, &api.agent, Some(&resume_at)).await;
    let missed = again
        .until(|e| of_type(e, "message_added").len() >= 2)
        .await;
    let messages = of_type(&missed, "message_added");
    assert_eq!(
        messages.len(),
        2,
        "exactly the two missed messages: {missed:?}"
    );

    // A garbage id is a validation problem, not an empty stream.
    let bad = api
        .call_with(
            Method::GET,
            "/events",
            Some(&api.agent),
            None,
            &[("last-event-id", "%%%")],
        )
        .await;
    bad.assert_problem(422, "validation");
    api.call(Method::GET, "/events", None, None)
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn a_second_instance_on_the_same_store_streams_what_the_first_wrote() {
    let api = api_with(fast()).await;
    // Another router (another app instance) on the same engine and store.
    let other: axum::Router = helpdesk_api::router(api.hd.clone(), fast());
    let mut stream = Stream::open(&other, &api.agent, None).await;
    let (id, _) = api
        .open_ticket(&api.customer, "Written by instance one")
        .await;
    let seen = stream.until(|e| !of_type(e, "created").is_empty()).await;
    assert_eq!(
        of_type(&seen, "created")[0].data.as_ref().unwrap()["ticket_id"],
        id
    );
}

#[tokio::test]
async fn api_keys_are_shown_once_authenticate_and_stop_when_revoked() {
    let api = api_with(fast()).await;
    let agent_id = api.agent_actor.user_id.to_string();
    let created = api
        .call(
            Method::POST,
            "/api-keys",
            Some(&api.admin),
            Some(json!({"label": "CRM sync", "user_id": agent_id})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let secret = created.json["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("hdk_"));
    assert_eq!(created.json["key"]["role"], "agent");
    let key_id = created.json["key"]["id"].as_str().unwrap().to_string();

    let listed = api
        .call(Method::GET, "/api-keys", Some(&api.admin), None)
        .await;
    assert_eq!(listed.json.as_array().unwrap().len(), 1);
    assert!(
        !listed.json.to_string().contains(&secret),
        "the secret is shown once"
    );

    let queue = api.call(Method::GET, "/tickets", Some(&secret), None).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.json);
    let me = api.call(Method::GET, "/me", Some(&secret), None).await;
    assert_eq!(me.json["user"]["id"], agent_id.as_str());
    // An agent's key cannot do an admin's work.
    api.call(Method::GET, "/api-keys", Some(&secret), None)
        .await
        .assert_problem(403, "forbidden");
    api.call(
        Method::POST,
        "/api-keys",
        Some(&api.agent),
        Some(json!({"label": "mine"})),
    )
    .await
    .assert_problem(403, "forbidden");
    api.call(
        Method::DELETE,
        &format!("/api-keys/{key_id}"),
        Some(&api.other_admin),
        None,
    )
    .await
    .assert_problem(404, "not_found");

    let revoked = api
        .call(
            Method::DELETE,
            &format!("/api-keys/{key_id}"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    api.call(Method::GET, "/tickets", Some(&secret), None)
        .await
        .assert_problem(401, "unauthenticated");
    api.call(Method::GET, "/tickets", Some("hdk_not-a-real-key"), None)
        .await
        .assert_problem(401, "unauthenticated");
    api.call(
        Method::POST,
        "/api-keys",
        Some(&api.admin),
        Some(json!({"label": ""})),
    )
    .await
    .assert_problem(422, "validation");
}

#[tokio::test]
async fn a_stream_wakes_on_a_commit_without_waiting_for_its_poll() {
    // An hour between polls: only the helpdesk's commit signal can deliver in time.
    let api = api_with(
        ApiConfig::default()
            .rate_limits(RateLimits::unlimited())
            .event_poll_interval(Duration::from_secs(3600)),
    )
    .await;
    let mut agent = Stream::open(&api.router, &api.agent, None).await;
    let started = std::time::Instant::now();
    let (_, number) = api.open_ticket(&api.customer, "Wake up").await;
    let events = agent.until(|e| !of_type(e, "created").is_empty()).await;
    let created = of_type(&events, "created");
    assert_eq!(created[0].data.as_ref().unwrap()["ticket_number"], number);
    assert!(started.elapsed() < Duration::from_secs(5));
}
