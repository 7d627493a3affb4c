//! Teams through the service: an admin defines them (bad ones refused naming the part), a
//! new ticket of a team's category goes to the team and to one of its members, a ticket
//! given to another team leaves an assignee who is not a member, only members may be
//! assigned a team's ticket (by hand, canned response or rule), and the queue, search and
//! analytics filter and count by team; customers never see the team.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{
    AutomationAction, AutomationRule, AutomationTrigger, Event, EventKind, Team, Ticket,
};
use helpdesk_core::service::{NewTicket, SearchRequest};
use helpdesk_core::store::TicketQuery;
use helpdesk_core::{Error, TicketId};

use common::{World, world};

fn field_of(e: Error) -> String {
    match e {
        Error::Validation { field, .. } => field.into_owned(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// Billing (Bob, billing tickets) and Technical (Tess, technical tickets).
async fn with_teams() -> World {
    let w = world().await;
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    settings.teams = vec![
        Team {
            key: "billing".into(),
            name: "Billing".into(),
            members: vec![w.agent.user_id],
            categories: vec!["billing".into()],
        },
        Team {
            key: "technical".into(),
            name: "Technical".into(),
            members: vec![w.agent2.user_id],
            categories: vec!["technical".into()],
        },
    ];
    w.hd.update_settings(&w.admin, settings).await.unwrap();
    w
}

/// A ticket the customer opens, as staff see it.
async fn open(w: &World, subject: &str, body: &str) -> Ticket {
    let id =
        w.hd.open_ticket(&w.customer, NewTicket::new(subject, body))
            .await
            .unwrap()
            .ticket
            .id;
    w.hd.get_ticket(&w.admin, id).await.unwrap().ticket
}

async fn events(w: &World, id: TicketId) -> Vec<Event> {
    w.hd.get_ticket(&w.admin, id).await.unwrap().events
}

#[tokio::test]
async fn bad_teams_are_refused_naming_the_part() {
    let w = world().await;
    let base = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    let team = |members: Vec<_>, categories: Vec<&str>| Team {
        key: "billing".into(),
        name: "Billing".into(),
        members,
        categories: categories.into_iter().map(String::from).collect(),
    };
    let mut s = base.clone();
    s.teams = vec![team(vec![w.customer.user_id], vec![])];
    let e = w.hd.update_settings(&w.admin, s).await.unwrap_err();
    assert_eq!(field_of(e), "settings.teams[0].members[0]", "a customer");
    let mut s = base.clone();
    s.teams = vec![team(vec![], vec!["nope"])];
    let e = w.hd.update_settings(&w.admin, s).await.unwrap_err();
    assert_eq!(field_of(e), "settings.teams[0].categories[0]");
    let mut s = base;
    s.teams = vec![team(vec![], vec![]), team(vec![], vec![])];
    let e = w.hd.update_settings(&w.admin, s).await.unwrap_err();
    assert_eq!(field_of(e), "settings.teams[1].key");
    assert!(
        w.hd.get_tenant(&w.admin)
            .await
            .unwrap()
            .settings
            .teams
            .is_empty()
    );
}

#[tokio::test]
async fn a_new_ticket_goes_to_its_categorys_team_and_one_of_its_members() {
    let w = with_teams().await;
    for _ in 0..3 {
        let t = open(&w, "Charged twice", "I was charged twice, please refund.").await;
        assert_eq!(t.category.as_deref(), Some("billing"));
        assert_eq!(t.team.as_deref(), Some("billing"));
        assert_eq!(t.assignee, Some(w.agent.user_id), "the only member");
    }
    let t = open(&w, "App crashes", "The app crashes on start.").await;
    assert_eq!(t.team.as_deref(), Some("technical"));
    assert_eq!(t.assignee, Some(w.agent2.user_id));
    // A category no team handles: no team, routed among everyone.
    let t = open(&w, "Hello", "Just saying hi.").await;
    assert_eq!(t.team, None);
    // The team is in the events: replay rebuilds it.
    let billing = open(&w, "Invoice", "Where is my invoice?").await;
    let rebuilt = Ticket::replay(&events(&w, billing.id).await).unwrap();
    assert_eq!(rebuilt.team.as_deref(), Some("billing"));
    // Customers do not see it.
    let theirs = w.hd.get_ticket(&w.customer, billing.id).await.unwrap();
    assert_eq!(theirs.ticket.team, None);
}

#[tokio::test]
async fn moving_a_ticket_to_another_team_unassigns_a_non_member_and_only_members_take_it() {
    let w = with_teams().await;
    let t = open(&w, "Charged twice", "Please refund the charge.").await;
    assert_eq!(t.assignee, Some(w.agent.user_id));
    let moved =
        w.hd.set_team(&w.agent, t.id, Some("Technical".into()))
            .await
            .unwrap();
    assert_eq!(moved.team.as_deref(), Some("technical"));
    assert_eq!(moved.assignee, None, "Bob is not in Technical");
    let kinds: Vec<_> = events(&w, t.id)
        .await
        .into_iter()
        .rev()
        .take(2)
        .map(|e| e.kind)
        .collect();
    assert!(
        matches!(&kinds[1], EventKind::TeamChanged { to } if to.as_deref() == Some("technical"))
    );
    assert!(matches!(&kinds[0], EventKind::Assigned { to: None, .. }));

    let refused = w.hd.assign(&w.admin, t.id, Some(w.agent.user_id)).await;
    assert_eq!(field_of(refused.unwrap_err()), "assignee");
    let taken =
        w.hd.assign(&w.admin, t.id, Some(w.agent2.user_id))
            .await
            .unwrap();
    assert_eq!(taken.assignee, Some(w.agent2.user_id));

    // Unknown teams and customers are refused; no team frees any agent to take it.
    let e = w.hd.set_team(&w.agent, t.id, Some("sales".into())).await;
    assert_eq!(field_of(e.unwrap_err()), "team");
    let e = w.hd.set_team(&w.customer, t.id, None).await;
    assert!(matches!(e, Err(Error::Forbidden { .. })), "{e:?}");
    w.hd.set_team(&w.agent, t.id, None).await.unwrap();
    w.hd.assign(&w.admin, t.id, Some(w.agent.user_id))
        .await
        .unwrap();

    // A rule assigning a non-member skips that action and says why.
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    settings.automations = vec![AutomationRule {
        key: "to_bob".into(),
        name: "To Bob".into(),
        enabled: true,
        trigger: AutomationTrigger::Created,
        conditions: Vec::new(),
        actions: vec![AutomationAction::Assign {
            to: Some(w.agent.user_id),
        }],
    }];
    w.hd.update_settings(&w.admin, settings).await.unwrap();
    let tech = open(&w, "Crash", "It crashes.").await;
    assert_eq!(tech.assignee, Some(w.agent2.user_id));
    let skipped = events(&w, tech.id)
        .await
        .into_iter()
        .find_map(|e| match e.kind {
            EventKind::AutomationApplied { skipped, .. } => Some(skipped),
            _ => None,
        })
        .unwrap();
    assert!(skipped[0].contains("not a member"), "{skipped:?}");
}

#[tokio::test]
async fn the_queue_search_and_analytics_filter_and_count_by_team() {
    let w = with_teams().await;
    open(&w, "Charged twice", "Please refund the charge.").await;
    open(&w, "Refund again", "Another refund please.").await;
    let crash = open(&w, "App crashes", "Refund of my time, it crashes.").await;
    open(&w, "Hello", "Just saying hi.").await;
    let billing = TicketQuery {
        team: Some("billing".into()),
        ..TicketQuery::default()
    };
    let page = w.hd.list_tickets(&w.agent, billing.clone()).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(
        page.items
            .iter()
            .all(|t| t.team.as_deref() == Some("billing"))
    );
    // A customer's team filter is ignored: they see their own tickets.
    let theirs = w.hd.list_tickets(&w.customer, billing).await.unwrap();
    assert_eq!(theirs.items.len(), 4);

    let found =
        w.hd.search_tickets(
            &w.agent,
            SearchRequest {
                q: "refund".into(),
                team: Some("technical".into()),
                ..SearchRequest::default()
            },
        )
        .await
        .unwrap();
    let ids: Vec<_> = found.items.iter().map(|r| r.ticket.id).collect();
    assert_eq!(ids, [crash.id]);
    let e =
        w.hd.search_tickets(
            &w.agent,
            SearchRequest {
                q: "refund".into(),
                team: Some("sales".into()),
                ..SearchRequest::default()
            },
        )
        .await;
    assert_eq!(field_of(e.unwrap_err()), "team");

    let loads = w.hd.team_breakdown(&w.admin).await.unwrap();
    let row = |name: &str| loads.iter().find(|l| l.name == name).unwrap().clone();
    assert_eq!((row("Billing").open, row("Billing").all), (2, 2));
    assert_eq!(row("Billing").unassigned, 0);
    assert_eq!((row("Technical").open, row("Technical").members), (1, 1));
    assert_eq!((row("No team").open, row("No team").all), (1, 1));
    assert!(matches!(
        w.hd.team_breakdown(&w.agent).await,
        Err(Error::Forbidden { .. })
    ));
}

#[tokio::test]
async fn a_view_published_to_a_team_is_seen_by_its_members_and_the_admins() {
    use helpdesk_core::domain::ViewFilter;
    use helpdesk_core::service::SavedViewInput;
    let w = with_teams().await;
    let input = |name: &str, shared: bool, team: Option<&str>| SavedViewInput {
        name: name.into(),
        filter: ViewFilter {
            team: Some("billing".into()),
            ..ViewFilter::default()
        },
        shared,
        team: team.map(String::from),
    };
    let view =
        w.hd.create_saved_view(&w.admin, input("Billing queue", true, Some("billing")))
            .await
            .unwrap();
    assert_eq!(view.team.as_deref(), Some("billing"));
    let names = |views: Vec<helpdesk_core::domain::SavedView>| {
        views.into_iter().map(|v| v.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(w.hd.list_saved_views(&w.agent).await.unwrap()),
        ["Billing queue"]
    );
    assert!(w.hd.list_saved_views(&w.agent2).await.unwrap().is_empty());
    assert_eq!(
        names(w.hd.list_saved_views(&w.admin).await.unwrap()),
        ["Billing queue"]
    );
    let hidden = w.hd.get_saved_view(&w.agent2, view.id).await;
    assert!(matches!(hidden, Err(Error::NotFound { .. })), "{hidden:?}");

    let personal =
        w.hd.create_saved_view(&w.agent, input("Mine", false, Some("billing")))
            .await;
    assert_eq!(field_of(personal.unwrap_err()), "team");
    let unknown =
        w.hd.create_saved_view(&w.admin, input("Sales", true, Some("sales")))
            .await;
    assert_eq!(field_of(unknown.unwrap_err()), "team");
}
