//! Saved views through the service: personal and shared scopes, a shared view's "me"
//! meaning whoever looks, counts that follow the tickets, and refusals naming the field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{Priority, TicketStatus, ViewAssignee, ViewFilter};
use helpdesk_core::service::{NewTicket, SavedViewInput};
use helpdesk_core::{DuplicateKind, Error};

use common::world;

fn mine_open() -> ViewFilter {
    ViewFilter {
        statuses: vec![TicketStatus::New, TicketStatus::Open],
        assignee: Some(ViewAssignee::Me),
        ..ViewFilter::default()
    }
}

#[tokio::test]
async fn a_shared_view_counts_each_agents_own_tickets() {
    let w = world().await;
    let shared =
        w.hd.create_saved_view(
            &w.admin,
            SavedViewInput {
                name: "My open tickets".into(),
                filter: mine_open(),
                shared: true,
                team: None,
            },
        )
        .await
        .unwrap();
    let urgent =
        w.hd.create_saved_view(
            &w.agent,
            SavedViewInput {
                name: "Urgent".into(),
                filter: ViewFilter {
                    priorities: vec![Priority::Urgent],
                    ..ViewFilter::default()
                },
                shared: false,
                team: None,
            },
        )
        .await
        .unwrap();
    let count = |list: Vec<(helpdesk_core::domain::SavedView, u64)>, name: &str| {
        list.into_iter()
            .find(|(v, _)| v.name == name)
            .map(|(_, n)| n)
    };
    let before = w.hd.saved_views_with_counts(&w.agent).await.unwrap();
    assert_eq!(count(before.clone(), "My open tickets"), Some(0));
    assert_eq!(count(before, "Urgent"), Some(0));
    // Another agent sees the shared view, not Bob's own.
    let theirs = w.hd.saved_views_with_counts(&w.agent2).await.unwrap();
    assert_eq!(theirs.len(), 1);

    let mut new = NewTicket::new("Server down", "Everything is down.");
    new.priority = Some(Priority::Urgent);
    let t = w.hd.open_ticket(&w.customer, new).await.unwrap().ticket;
    w.hd.assign(&w.admin, t.id, Some(w.agent.user_id))
        .await
        .unwrap();
    let after = w.hd.saved_views_with_counts(&w.agent).await.unwrap();
    assert_eq!(count(after.clone(), "My open tickets"), Some(1));
    assert_eq!(count(after, "Urgent"), Some(1));
    let tess = w.hd.saved_views_with_counts(&w.agent2).await.unwrap();
    assert_eq!(
        count(tess, "My open tickets"),
        Some(0),
        "me is whoever looks"
    );

    // The view's query lists what it counts.
    let query = w.hd.saved_view_query(&w.agent, shared.id).await.unwrap();
    let page = w.hd.list_tickets(&w.agent, query).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, t.id);

    // Scopes: Tess cannot see, change or delete Bob's; Bob cannot change the shared one.
    let r = w.hd.get_saved_view(&w.agent2, urgent.id).await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    let r = w.hd.delete_saved_view(&w.agent, shared.id).await;
    assert!(matches!(r, Err(Error::Forbidden { .. })), "{r:?}");
    let r =
        w.hd.create_saved_view(
            &w.agent,
            SavedViewInput {
                name: "Shared by an agent".into(),
                shared: true,
                team: None,
                ..SavedViewInput::default()
            },
        )
        .await;
    assert!(matches!(r, Err(Error::Forbidden { .. })), "{r:?}");
    let r =
        w.hd.create_saved_view(
            &w.agent,
            SavedViewInput {
                name: "URGENT ".into(),
                ..SavedViewInput::default()
            },
        )
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
    let renamed =
        w.hd.update_saved_view(
            &w.agent,
            urgent.id,
            SavedViewInput {
                name: "Urgent ones".into(),
                filter: urgent.filter.clone(),
                shared: false,
                team: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.created_at, urgent.created_at);
    w.hd.delete_saved_view(&w.agent, urgent.id).await.unwrap();
    assert_eq!(w.hd.list_saved_views(&w.agent).await.unwrap().len(), 1);
    let r = w.hd.list_saved_views(&w.customer).await;
    assert!(matches!(r, Err(Error::Forbidden { .. })), "{r:?}");
}

#[tokio::test]
async fn bad_filters_are_refused_naming_the_field() {
    let w = world().await;
    let cases = [
        (
            SavedViewInput {
                name: " ".into(),
                ..SavedViewInput::default()
            },
            "name",
        ),
        (
            SavedViewInput {
                name: "Cat".into(),
                filter: ViewFilter {
                    category: Some("not-a-category".into()),
                    ..ViewFilter::default()
                },
                shared: false,
                team: None,
            },
            "filter.category",
        ),
        (
            SavedViewInput {
                name: "Text".into(),
                filter: ViewFilter {
                    text: Some("a\u{7}b".into()),
                    ..ViewFilter::default()
                },
                shared: false,
                team: None,
            },
            "filter.text",
        ),
        (
            SavedViewInput {
                name: "Customer".into(),
                filter: ViewFilter {
                    assignee: Some(ViewAssignee::User {
                        id: w.customer.user_id,
                    }),
                    ..ViewFilter::default()
                },
                shared: false,
                team: None,
            },
            "filter.assignee",
        ),
    ];
    for (input, field) in cases {
        match w.hd.create_saved_view(&w.agent, input).await {
            Err(Error::Validation { field: f, .. }) => assert_eq!(f.as_ref(), field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(w.hd.list_saved_views(&w.agent).await.unwrap().is_empty());
}
