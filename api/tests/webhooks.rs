//! Webhooks against a real local receiver: signed per Standard Webhooks, delivered at
//! least once in order, retried while the receiver is down, disabled after repeated
//! failures with the reason shown, secrets rotated with a grace period.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use helpdesk_api::{WebhookDelivery, WebhookSender};
use serde_json::{Value, json};
use standardwebhooks::Webhook;

use common::{TestApi, api};

/// What the receiver got: headers and body of each post.
type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A local HTTP receiver answering `status` to every post.
struct Receiver {
    addr: SocketAddr,
    received: Received,
    status: Arc<AtomicU16>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start_on(addr: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received: Received = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let (r, s) = (received.clone(), status.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (r, s) = (r.clone(), s.clone());
                async move {
                    r.lock().unwrap().push((headers, body.to_vec()));
                    StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap()
                }
            }),
        );
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            received,
            status,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn bodies(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_slice(b).unwrap())
            .collect()
    }
}

fn quick() -> WebhookDelivery {
    WebhookDelivery {
        first_retry: Duration::ZERO,
        max_retry: Duration::ZERO,
        timeout: Duration::from_secs(5),
        disable_after: 3,
        ..WebhookDelivery::default()
    }
}

async fn register(api: &TestApi, url: &str, types: Value) -> (String, String) {
    let r = api
        .call(
            Method::POST,
            "/webhooks",
            Some(&api.admin),
            Some(json!({"url": url, "event_types": types})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    (
        r.json["webhook"]["id"].as_str().unwrap().to_string(),
        r.json["secret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn deliveries_are_signed_filtered_in_order_and_not_repeated() {
    let api = api().await;
    let receiver = Receiver::start_on("127.0.0.1:0".parse().unwrap()).await;
    let (_, secret) = register(&api, &receiver.url(), json!(["created", "message_added"])).await;
    assert!(secret.starts_with("whsec_"));
    let (id, _) = api.open_ticket(&api.customer, "Hooked").await;
    let reply = api
        .call(
            Method::POST,
            &format!("/tickets/{id}/replies"),
            Some(&api.agent),
            Some(json!({"body": "On it"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);

    let sender = WebhookSender::new(api.hd.clone(), quick()).unwrap();
    let report = sender.deliver_due().await.unwrap();
    assert!(report.ran);
    assert_eq!(report.delivered, 2, "{report:?}");
    let kinds: Vec<_> = receiver
        .bodies()
        .iter()
        .map(|b| b["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["ticket.created", "ticket.message_added"]);
    for (headers, body) in receiver.received.lock().unwrap().iter() {
        Webhook::new(&secret)
            .unwrap()
            .verify(body, headers)
            .unwrap();
        let wrong = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert!(wrong.verify(body, headers).is_err());
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(headers["webhook-id"].to_str().unwrap(), event["data"]["id"]);
    }
    // Nothing new: nothing posted again.
    assert_eq!(sender.deliver_due().await.unwrap().delivered, 0);
    assert_eq!(receiver.bodies().len(), 2);
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_events_when_it_comes_back() {
    let api = api().await;
    // A port with nobody listening, for now.
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let (hook, _) = register(&api, &format!("http://{addr}/hook"), json!(["created"])).await;
    api.open_ticket(&api.customer, "While it was down").await;
    let sender = WebhookSender::new(
        api.hd.clone(),
        WebhookDelivery {
            disable_after: 10,
            ..quick()
        },
    )
    .unwrap();
    for attempt in 1..=2 {
        let report = sender.deliver_due().await.unwrap();
        assert_eq!(
            (report.delivered, report.failed),
            (0, 1),
            "attempt {attempt}"
        );
    }
    let state = api
        .call(
            Method::GET,
            &format!("/webhooks/{hook}"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(state.json["consecutive_failures"], 2, "{}", state.json);
    assert!(state.json["enabled"].as_bool().unwrap());

    let receiver = Receiver::start_on(addr).await;
    let report = sender.deliver_due().await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    assert_eq!(
        receiver.bodies()[0]["data"]["data"]["ticket"]["subject"],
        "While it was down"
    );
    let state = api
        .call(
            Method::GET,
            &format!("/webhooks/{hook}"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(state.json["consecutive_failures"], 0);
    receiver.task.abort();
}

#[tokio::test]
async fn repeated_failures_disable_the_endpoint_with_the_reason_until_an_admin_enables_it() {
    let api = api().await;
    let receiver = Receiver::start_on("127.0.0.1:0".parse().unwrap()).await;
    receiver.status.store(503, Ordering::SeqCst);
    let (hook, _) = register(&api, &receiver.url(), json!([])).await;
    api.open_ticket(&api.customer, "Refused").await;
    let sender = WebhookSender::new(api.hd.clone(), quick()).unwrap();
    let mut disabled = 0;
    for _ in 0..3 {
        disabled += sender.deliver_due().await.unwrap().disabled;
    }
    assert_eq!(disabled, 1);
    let state = api
        .call(
            Method::GET,
            &format!("/webhooks/{hook}"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(state.json["enabled"], false);
    let reason = state.json["disabled_reason"].as_str().unwrap();
    assert!(
        reason.contains("HTTP 503") && reason.contains('3'),
        "{reason}"
    );
    // Disabled: not tried again.
    let before = receiver.received.lock().unwrap().len();
    assert_eq!(sender.deliver_due().await.unwrap().failed, 0);
    assert_eq!(receiver.received.lock().unwrap().len(), before);

    receiver.status.store(200, Ordering::SeqCst);
    let on = api
        .call(
            Method::PUT,
            &format!("/webhooks/{hook}/enabled"),
            Some(&api.admin),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(on.json["enabled"], true, "{}", on.json);
    assert!(on.json["disabled_reason"].is_null());
    assert!(sender.deliver_due().await.unwrap().delivered >= 1);
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_previous_one_during_the_grace_period() {
    let api = api().await;
    let receiver = Receiver::start_on("127.0.0.1:0".parse().unwrap()).await;
    let (hook, old) = register(&api, &receiver.url(), json!(["created"])).await;
    let rotated = api
        .call(
            Method::POST,
            &format!("/webhooks/{hook}/rotate-secret"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);
    let new = rotated.json["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    api.open_ticket(&api.customer, "After rotation").await;
    WebhookSender::new(api.hd.clone(), quick())
        .unwrap()
        .deliver_due()
        .await
        .unwrap();
    let (headers, body) = receiver.received.lock().unwrap()[0].clone();
    assert_eq!(
        headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    Webhook::new(&new).unwrap().verify(&body, &headers).unwrap();
    Webhook::new(&old).unwrap().verify(&body, &headers).unwrap();

    // After the grace period only the new secret signs.
    let strict = WebhookDelivery {
        rotation_grace: Duration::ZERO,
        ..quick()
    };
    api.open_ticket(&api.customer, "Later").await;
    WebhookSender::new(api.hd.clone(), strict)
        .unwrap()
        .deliver_due()
        .await
        .unwrap();
    let (headers, body) = receiver.received.lock().unwrap()[1].clone();
    Webhook::new(&new).unwrap().verify(&body, &headers).unwrap();
    assert!(Webhook::new(&old).unwrap().verify(&body, &headers).is_err());
}

#[tokio::test]
async fn only_admins_manage_endpoints_and_secrets_are_shown_once() {
    let api = api().await;
    let (hook, secret) = register(&api, "https://hooks.example.test/helpdesk", json!([])).await;
    let listed = api
        .call(Method::GET, "/webhooks", Some(&api.admin), None)
        .await;
    assert_eq!(listed.json.as_array().unwrap().len(), 1);
    assert!(!listed.json.to_string().contains(&secret));
    api.call(Method::GET, "/webhooks", Some(&api.agent), None)
        .await
        .assert_problem(403, "forbidden");
    api.call(
        Method::GET,
        &format!("/webhooks/{hook}"),
        Some(&api.other_admin),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let bad = api
        .call(
            Method::POST,
            "/webhooks",
            Some(&api.admin),
            Some(json!({"url": "ftp://x"})),
        )
        .await;
    bad.assert_problem(422, "validation");
    assert_eq!(bad.json["field"], "url");
    let bad_kind = api
        .call(
            Method::PATCH,
            &format!("/webhooks/{hook}"),
            Some(&api.admin),
            Some(json!({"event_types": ["nope"]})),
        )
        .await;
    bad_kind.assert_problem(422, "validation");
    let gone = api
        .call(
            Method::DELETE,
            &format!("/webhooks/{hook}"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    api.call(
        Method::GET,
        &format!("/webhooks/{hook}"),
        Some(&api.admin),
        None,
    )
    .await
    .assert_problem(404, "not_found");
}

#[tokio::test]
async fn an_automation_rule_calls_a_webhook_whatever_kinds_it_subscribed_to() {
    let api = api().await;
    let receiver = Receiver::start_on("127.0.0.1:0".parse().unwrap()).await;
    let (webhook, _) = register(&api, &receiver.url(), json!(["message_added"])).await;
    let tenant = api
        .call(Method::GET, "/tenant", Some(&api.admin), None)
        .await;
    let mut settings = tenant.json["settings"].clone();
    let rule = |webhook: &str| {
        json!([{
            "key": "tell_crm",
            "name": "Tell the CRM",
            "trigger": {"type": "created"},
            "conditions": [],
            "actions": [
                {"type": "add_tags", "tags": ["synced"]},
                {"type": "call_webhook", "webhook": webhook}
            ]
        }])
    };
    // An endpoint the tenant does not have is refused, naming the action.
    settings["automations"] = rule("00000000-0000-7000-8000-000000000000");
    let refused = api
        .call(
            Method::PUT,
            "/tenant/settings",
            Some(&api.admin),
            Some(settings.clone()),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.json
    );
    assert!(
        refused
            .json
            .to_string()
            .contains("automations[0].actions[1].webhook"),
        "{}",
        refused.json
    );
    settings["automations"] = rule(&webhook);
    let saved = api
        .call(
            Method::PUT,
            "/tenant/settings",
            Some(&api.admin),
            Some(settings),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.json);

    let (id, _) = api.open_ticket(&api.customer, "Sync me").await;
    let sender = WebhookSender::new(api.hd.clone(), quick()).unwrap();
    sender.deliver_due().await.unwrap();
    let bodies = receiver.bodies();
    let kinds: Vec<_> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["ticket.automation_applied"],
        "the rule's event only, not the ticket's created event"
    );
    assert_eq!(bodies[0]["data"]["ticket_id"], id.as_str());
    assert_eq!(bodies[0]["data"]["data"]["rule"], "tell_crm");
}
