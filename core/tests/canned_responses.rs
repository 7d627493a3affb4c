//! Canned responses through the service: scopes and who may change what, placeholders
//! filled in one pass, actions applied in the one ticket change with the reply, every
//! refusal writing nothing, and the usage count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{
    AuditKind, CannedActions, CannedAssign, MessageKind, Priority, TicketStatus,
};
use helpdesk_core::service::{CannedResponseInput, NewTicket, UserPatch};
use helpdesk_core::store::AuditQuery;
use helpdesk_core::{DuplicateKind, Error, TicketId};

use common::{World, world};

fn input(name: &str, body: &str) -> CannedResponseInput {
    CannedResponseInput {
        name: name.into(),
        body: body.into(),
        ..CannedResponseInput::default()
    }
}

async fn ticket(w: &World) -> TicketId {
    w.hd.open_ticket(
        &w.customer,
        NewTicket::new("Charged twice", "I was charged twice for March."),
    )
    .await
    .unwrap()
    .ticket
    .id
}

#[tokio::test]
async fn agents_keep_their_own_and_admins_share() {
    let w = world().await;
    let mine =
        w.hd.create_canned_response(&w.agent, input("Refund", "Refunded, {{customer.name}}."))
            .await
            .unwrap();
    assert_eq!(mine.owner, Some(w.agent.user_id));
    // Sharing is for admins.
    let shared = CannedResponseInput {
        shared: true,
        ..input("Greeting", "Hello from {{company.name}}")
    };
    let r = w.hd.create_canned_response(&w.agent, shared.clone()).await;
    assert!(matches!(r, Err(Error::Forbidden { .. })), "{r:?}");
    let greeting = w.hd.create_canned_response(&w.admin, shared).await.unwrap();
    assert_eq!(greeting.owner, None);
    // Customers have none.
    let r = w.hd.list_canned_responses(&w.customer, "").await;
    assert!(matches!(r, Err(Error::Forbidden { .. })), "{r:?}");

    // Each agent sees the shared ones and their own; the search folds case.
    let names = |list: Vec<helpdesk_core::domain::CannedResponse>| {
        list.into_iter().map(|c| c.name).collect::<Vec<_>>()
    };
    let seen = w.hd.list_canned_responses(&w.agent, "").await.unwrap();
    assert_eq!(names(seen), ["Greeting", "Refund"]);
    let seen = w.hd.list_canned_responses(&w.agent2, "").await.unwrap();
    assert_eq!(names(seen), ["Greeting"]);
    let seen = w.hd.list_canned_responses(&w.agent, "REF").await.unwrap();
    assert_eq!(names(seen), ["Refund"]);
    let r = w.hd.get_canned_response(&w.agent2, mine.id).await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");

    // Another agent cannot change or delete it; an agent cannot change a shared one.
    let r =
        w.hd.update_canned_response(&w.agent2, mine.id, input("Mine now", "x"))
            .await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    let r =
        w.hd.update_canned_response(&w.agent, greeting.id, input("Hi", "x"))
            .await;
    assert!(matches!(r, Err(Error::Forbidden { .. })), "{r:?}");
    let r = w.hd.delete_canned_response(&w.agent, greeting.id).await;
    assert!(matches!(r, Err(Error::Forbidden { .. })), "{r:?}");

    // A name is unique in its scope only.
    let r =
        w.hd.create_canned_response(&w.agent, input("refund ", "again"))
            .await;
    assert!(
        matches!(
            r,
            Err(Error::Duplicate {
                kind: DuplicateKind::Name,
                ..
            })
        ),
        "{r:?}"
    );
    w.hd.create_canned_response(&w.agent2, input("Refund", "theirs"))
        .await
        .unwrap();

    let changed =
        w.hd.update_canned_response(&w.agent, mine.id, input("Refund done", "Done."))
            .await
            .unwrap();
    assert_eq!(changed.created_at, mine.created_at);
    w.hd.delete_canned_response(&w.agent, mine.id)
        .await
        .unwrap();
    let r = w.hd.get_canned_response(&w.agent, mine.id).await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");

    let audit =
        w.hd.list_audit_events(&w.admin, AuditQuery::newest(20))
            .await
            .unwrap();
    let kinds: Vec<_> = audit.iter().map(|e| &e.kind).collect();
    assert!(matches!(
        kinds[0],
        AuditKind::CannedResponseDeleted { name, .. } if name == "Refund done"
    ));
    assert!(matches!(kinds[1], AuditKind::CannedResponseUpdated { .. }));
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let w = world().await;
    let cases = [
        (input("", "text"), "name"),
        (input("Typo", "Hi {{customer.nmae}}"), "body"),
        (input("Open", "Hi {{customer.name"), "body"),
        (
            CannedResponseInput {
                actions: CannedActions {
                    status: Some(TicketStatus::New),
                    ..CannedActions::default()
                },
                ..input("Back", "x")
            },
            "actions.status",
        ),
        (
            CannedResponseInput {
                actions: CannedActions {
                    add_tags: vec!["ok".into(), "  ".into()],
                    ..CannedActions::default()
                },
                ..input("Tags", "x")
            },
            "actions.add_tags[1]",
        ),
        (
            CannedResponseInput {
                actions: CannedActions {
                    add_tags: vec!["vip".into()],
                    remove_tags: vec!["vip".into()],
                    ..CannedActions::default()
                },
                ..input("Both", "x")
            },
            "actions.remove_tags",
        ),
        (
            CannedResponseInput {
                actions: CannedActions {
                    assign: Some(CannedAssign::User {
                        id: w.customer.user_id,
                    }),
                    ..CannedActions::default()
                },
                ..input("To a customer", "x")
            },
            "actions.assign",
        ),
    ];
    for (bad, field) in cases {
        let r = w.hd.create_canned_response(&w.agent, bad).await;
        match r {
            Err(Error::Validation { field: f, message }) => {
                assert_eq!(f.as_ref(), field, "{message}");
                if field == "body" {
                    assert!(
                        message.contains("{{customer.nmae}}") || message.contains("not closed"),
                        "{message}"
                    );
                }
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(
        w.hd.list_canned_responses(&w.agent, "")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn applying_sends_the_filled_text_and_its_actions_in_one_change() {
    let w = world().await;
    let id = ticket(&w).await;
    let before = w.hd.get_ticket(&w.agent, id).await.unwrap().ticket;
    let canned = w
        .hd
        .create_canned_response(
            &w.agent,
            CannedResponseInput {
                actions: CannedActions {
                    status: Some(TicketStatus::Pending),
                    priority: Some(Priority::High),
                    add_tags: vec!["refund".into()],
                    remove_tags: Vec::new(),
                    assign: Some(CannedAssign::Me),
                },
                ..input(
                    "Refund issued",
                    "Hi {{customer.first_name}}, ticket #{{ticket.number}} ({{ticket.subject}}): refunded. {{agent.first_name}}, {{company.name}}",
                )
            },
        )
        .await
        .unwrap();

    let preview =
        w.hd.preview_canned_response(&w.agent, id, canned.id)
            .await
            .unwrap();
    let expected = format!(
        "Hi Carl, ticket #{} (Charged twice): refunded. Bob, Acme",
        before.number
    );
    assert_eq!(preview.body, expected);
    // A preview writes nothing.
    let after_preview = w.hd.get_ticket(&w.agent, id).await.unwrap().ticket;
    assert_eq!(after_preview.version, before.version);

    // Routing gave the ticket to someone: hand it to Tess first, so "assign to me" moves it.
    w.hd.assign(&w.admin, id, Some(w.agent2.user_id))
        .await
        .unwrap();
    let before = w.hd.get_ticket(&w.agent, id).await.unwrap().ticket;
    let done =
        w.hd.apply_canned_response(&w.agent, id, canned.id, None)
            .await
            .unwrap();
    assert_eq!(done.message.body, expected);
    assert_eq!(done.message.kind, MessageKind::Reply);
    let t = &done.ticket;
    assert_eq!(t.version, before.version + 1, "one change");
    assert_eq!(t.status, TicketStatus::Pending);
    assert_eq!(t.priority, Priority::High);
    assert!(t.tags.contains(&"refund".to_string()));
    assert_eq!(t.assignee, Some(w.agent.user_id));
    assert!(t.first_response_at.is_some());
    let view = w.hd.get_ticket(&w.agent, id).await.unwrap();
    let applied: Vec<_> = view
        .events
        .iter()
        .filter(|e| e.version == t.version)
        .map(|e| e.kind.name())
        .collect();
    assert_eq!(applied[0], "canned_response_applied");
    for kind in [
        "message_added",
        "priority_changed",
        "tags_changed",
        "assigned",
        "status_changed",
    ] {
        assert!(applied.contains(&kind), "{kind} in {applied:?}");
    }
    // The customer sees the reply, not the event.
    let theirs = w.hd.get_ticket(&w.customer, id).await.unwrap();
    assert!(theirs.messages.iter().any(|m| m.body == expected));
    assert!(theirs.events.is_empty());

    // An edited preview is sent as edited, and counted.
    let second = ticket(&w).await;
    let edited =
        w.hd.apply_canned_response(&w.agent, second, canned.id, Some("My own words.".into()))
            .await
            .unwrap();
    assert_eq!(edited.message.body, "My own words.");
    let usage =
        w.hd.canned_response_usage(&w.admin, before.created_at)
            .await
            .unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].usage.uses, 2);
    assert_eq!(usage[0].name.as_deref(), Some("Refund issued"));
    let r =
        w.hd.canned_response_usage(&w.agent, before.created_at)
            .await;
    assert!(matches!(r, Err(Error::Forbidden { .. })), "{r:?}");
}

#[tokio::test]
async fn a_placeholder_value_is_not_filled_again() {
    let w = world().await;
    w.hd.update_user(
        &w.admin,
        w.customer.user_id,
        UserPatch {
            name: Some("{{agent.name}} {{company.name}}".into()),
            ..UserPatch::default()
        },
    )
    .await
    .unwrap();
    let id = ticket(&w).await;
    let canned =
        w.hd.create_canned_response(&w.agent, input("Hi", "Hi {{customer.name}}"))
            .await
            .unwrap();
    let done =
        w.hd.apply_canned_response(&w.agent, id, canned.id, None)
            .await
            .unwrap();
    assert_eq!(done.message.body, "Hi {{agent.name}} {{company.name}}");
}

#[tokio::test]
async fn a_refused_action_writes_nothing() {
    let w = world().await;
    let id = ticket(&w).await;
    // Resolved -> Pending is not in the lifecycle table.
    w.hd.transition(&w.agent, id, TicketStatus::Resolved)
        .await
        .unwrap();
    let before = w.hd.get_ticket(&w.agent, id).await.unwrap();
    let canned =
        w.hd.create_canned_response(
            &w.agent,
            CannedResponseInput {
                actions: CannedActions {
                    status: Some(TicketStatus::Pending),
                    add_tags: vec!["waiting".into()],
                    ..CannedActions::default()
                },
                ..input("Need info", "Could you send the invoice number?")
            },
        )
        .await
        .unwrap();
    let r =
        w.hd.apply_canned_response(&w.agent, id, canned.id, None)
            .await;
    assert!(matches!(r, Err(Error::IllegalTransition { .. })), "{r:?}");
    let after = w.hd.get_ticket(&w.agent, id).await.unwrap();
    assert_eq!(after.ticket, before.ticket);
    assert_eq!(after.messages.len(), before.messages.len());

    // An assignee deactivated since the response was saved refuses it too.
    let to_tess =
        w.hd.create_canned_response(
            &w.agent,
            CannedResponseInput {
                actions: CannedActions {
                    assign: Some(CannedAssign::User {
                        id: w.agent2.user_id,
                    }),
                    ..CannedActions::default()
                },
                ..input("To Tess", "Passing this to Tess.")
            },
        )
        .await
        .unwrap();
    w.hd.update_user(
        &w.admin,
        w.agent2.user_id,
        UserPatch {
            active: Some(false),
            ..UserPatch::default()
        },
    )
    .await
    .unwrap();
    let open = ticket(&w).await;
    let opened = w.hd.get_ticket(&w.agent, open).await.unwrap().ticket;
    let r =
        w.hd.apply_canned_response(&w.agent, open, to_tess.id, None)
            .await;
    assert!(
        matches!(&r, Err(Error::Validation { field, .. }) if field == "actions.assign"),
        "{r:?}"
    );
    let untouched = w.hd.get_ticket(&w.agent, open).await.unwrap().ticket;
    assert_eq!(untouched, opened);
    assert!(untouched.first_response_at.is_none());

    // An internal one is a note: no first response, the customer does not see it.
    let note =
        w.hd.create_canned_response(
            &w.agent,
            CannedResponseInput {
                internal: true,
                ..input("Escalation note", "Checked billing for {{customer.email}}.")
            },
        )
        .await
        .unwrap();
    let done =
        w.hd.apply_canned_response(&w.agent, open, note.id, None)
            .await
            .unwrap();
    assert_eq!(done.message.kind, MessageKind::Note);
    assert_eq!(done.message.body, "Checked billing for carl@customer.test.");
    assert!(done.ticket.first_response_at.is_none());
    let theirs = w.hd.get_ticket(&w.customer, open).await.unwrap();
    assert!(
        !theirs
            .messages
            .iter()
            .any(|m| m.body.contains("Checked billing"))
    );
}
