//! Conformance cases for saved views (administrative changes with their audit events,
//! names unique per scope, tenant scoping) and for counting the tickets a query matches.

use super::listing::seed_listing;
use super::{S, assert_duplicate, create, seed_tenant};
use crate::domain::{
    AuditEvent, AuditKind, Channel, Priority, SavedView, TicketStatus, ViewAssignee, ViewFilter,
};
use crate::store::{AdminChange, AdminWrite, AssigneeFilter, AuditQuery, TicketQuery, TicketSort};
use crate::testkit::fixtures::{at, change, new_ticket};
use crate::{DuplicateKind, Error, SavedViewId, TenantId, UserId};

fn view(tenant: TenantId, owner: Option<UserId>, name: &str, creator: UserId) -> SavedView {
    SavedView {
        id: SavedViewId::new(),
        tenant_id: tenant,
        owner,
        team: None,
        name: name.into(),
        filter: ViewFilter {
            statuses: vec![TicketStatus::Open, TicketStatus::Pending],
            priorities: vec![Priority::Urgent],
            assignee: Some(ViewAssignee::Me),
            category: Some("billing".into()),
            team: Some("billing".into()),
            fields: vec!["plan=Pro".into()],
            text: Some("refund".into()),
            sort: TicketSort::Newest,
        },
        created_by: creator,
        created_at: at(1),
        updated_at: at(1),
    }
}

async fn commit(store: &S, tenant: TenantId, change: AdminChange) -> crate::Result<()> {
    let kind = AuditKind::SavedViewDeleted {
        view: SavedViewId::new(),
        name: "audit".into(),
    };
    let audit = AuditEvent::new(tenant, at(100), None, kind);
    store
        .commit_admin_change(&AdminWrite::new(change, audit))
        .await
}

async fn audit_count(store: &S, tenant: TenantId) -> usize {
    store
        .list_audit_events(tenant, &AuditQuery::newest(100))
        .await
        .unwrap()
        .len()
}

/// Saved views round-trip every field (a team-published one's team too), list by folded
/// name per tenant, keep names unique
/// per scope case-insensitively, and every failed change writes nothing.
pub async fn saved_views_commit_with_audit_events_and_unique_names(store: S) {
    let (a, _, agent) = seed_tenant(&store, "acme").await;
    let (b, _, other_agent) = seed_tenant(&store, "globex").await;
    let shared = view(a.id, None, "Billing queue", agent.id);
    let mut mine = view(a.id, Some(agent.id), "billing QUEUE", agent.id);
    mine.filter = ViewFilter {
        assignee: Some(ViewAssignee::User { id: agent.id }),
        ..ViewFilter::default()
    };
    // Published to one team: the team round-trips too.
    let mut unassigned = view(a.id, None, "Unassigned", agent.id);
    unassigned.team = Some("billing".into());
    let theirs = view(b.id, None, "Billing queue", other_agent.id);
    for v in [&shared, &mine, &unassigned, &theirs] {
        commit(&store, v.tenant_id, AdminChange::CreateSavedView(v.clone()))
            .await
            .unwrap();
    }
    let mut same_name = [shared.clone(), mine.clone()];
    same_name.sort_by_key(|v| v.id);
    let expected = [same_name.to_vec(), vec![unassigned.clone()]].concat();
    assert_eq!(store.list_saved_views(a.id).await.unwrap(), expected);
    assert_eq!(
        store.get_saved_view(a.id, mine.id).await.unwrap(),
        Some(mine.clone())
    );
    assert_eq!(store.get_saved_view(b.id, mine.id).await.unwrap(), None);
    assert_eq!(audit_count(&store, a.id).await, 3);

    assert_duplicate(
        commit(&store, a.id, AdminChange::CreateSavedView(shared.clone())).await,
        DuplicateKind::Id,
    );
    let again = view(a.id, None, " BILLING queue", agent.id);
    assert_duplicate(
        commit(&store, a.id, AdminChange::CreateSavedView(again)).await,
        DuplicateKind::Name,
    );
    assert_eq!(audit_count(&store, a.id).await, 3);

    let mut renamed = unassigned.clone();
    renamed.name = "Nobody's".into();
    renamed.owner = Some(agent.id);
    renamed.filter = ViewFilter {
        assignee: Some(ViewAssignee::Unassigned),
        ..ViewFilter::default()
    };
    renamed.updated_at = at(5);
    let mut sent = renamed.clone();
    sent.created_by = other_agent.id;
    sent.created_at = at(50);
    commit(&store, a.id, AdminChange::UpdateSavedView(sent))
        .await
        .unwrap();
    assert_eq!(
        store.get_saved_view(a.id, unassigned.id).await.unwrap(),
        Some(renamed.clone())
    );
    let mut clash = renamed.clone();
    clash.name = "Billing Queue".into();
    assert_duplicate(
        commit(&store, a.id, AdminChange::UpdateSavedView(clash)).await,
        DuplicateKind::Name,
    );
    let mut foreign = theirs.clone();
    foreign.tenant_id = a.id;
    for change in [
        AdminChange::UpdateSavedView(foreign),
        AdminChange::DeleteSavedView {
            tenant: a.id,
            id: theirs.id,
        },
    ] {
        let r = commit(&store, a.id, change).await;
        assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    }
    assert_eq!(audit_count(&store, a.id).await, 4);
    let delete = AdminChange::DeleteSavedView {
        tenant: a.id,
        id: shared.id,
    };
    commit(&store, a.id, delete).await.unwrap();
    assert_eq!(
        store.list_saved_views(a.id).await.unwrap(),
        vec![mine, renamed]
    );
    assert_eq!(store.list_saved_views(b.id).await.unwrap(), vec![theirs]);
}

/// `count_tickets` counts exactly what `list_tickets` lists for every filter (paging
/// through all of it), ignoring sort, limit and cursor, and only the tenant's tickets.
pub async fn count_tickets_matches_the_listing(store: S) {
    let (a, customer, other, agent, _) = seed_listing(&store).await;
    let (b, theirs, _) = seed_tenant(&store, "globex").await;
    create(&store, b.id, theirs.id, "Login broken", Priority::High, 0).await;
    // A chat the bot is still answering (left out by `exclude_bot_chats`).
    let mut chat = new_ticket(a.id, customer.id, 0, "Chat: login", Priority::Low, at(90));
    chat.ticket.channel = Channel::Chat;
    if let crate::domain::EventKind::Created { ticket } = &mut chat.events[0].kind {
        ticket.channel = Channel::Chat;
    }
    let chat = store.create_ticket(chat).await.unwrap();
    let w = change(&chat.ticket, vec![], at(91), None);
    store.update_ticket(1, &w).await.unwrap();

    let queries: Vec<TicketQuery> = vec![
        TicketQuery::default(),
        TicketQuery {
            statuses: vec![TicketStatus::New, TicketStatus::Open],
            ..TicketQuery::default()
        },
        TicketQuery {
            priorities: vec![Priority::Urgent, Priority::High],
            assignee: Some(AssigneeFilter::User(agent.id)),
            ..TicketQuery::default()
        },
        TicketQuery {
            assignee: Some(AssigneeFilter::Unassigned),
            exclude_bot_chats: true,
            ..TicketQuery::default()
        },
        TicketQuery {
            requester: Some(other.id),
            category: Some("account".into()),
            ..TicketQuery::default()
        },
        TicketQuery {
            text: Some("LOGIN".into()),
            sort: TicketSort::Newest,
            limit: 1,
            ..TicketQuery::default()
        },
        TicketQuery {
            text: Some("login".into()),
            exclude_bot_chats: true,
            ..TicketQuery::default()
        },
        TicketQuery {
            category: Some("none-such".into()),
            ..TicketQuery::default()
        },
    ];
    for query in queries {
        let mut listed = 0;
        let mut page_query = TicketQuery {
            limit: 3,
            cursor: None,
            ..query.clone()
        };
        loop {
            let page = store.list_tickets(a.id, &page_query).await.unwrap();
            listed += page.items.len() as u64;
            match page.next_cursor {
                Some(c) => page_query.cursor = Some(c),
                None => break,
            }
        }
        let counted = store.count_tickets(a.id, &query).await.unwrap();
        assert_eq!(counted, listed, "{query:?}");
    }
    assert_eq!(
        store
            .count_tickets(a.id, &TicketQuery::default())
            .await
            .unwrap(),
        9
    );
    assert_eq!(
        store
            .count_tickets(b.id, &TicketQuery::default())
            .await
            .unwrap(),
        1
    );
}
