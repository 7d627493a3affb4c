//! Conformance cases for canned responses: administrative changes with their audit events,
//! names unique per scope (case-insensitively), tenant scoping, and the usage count read
//! from the tickets' events.

use super::{S, assert_duplicate, create, seed_tenant};
use crate::domain::{
    AuditEvent, AuditKind, CannedActions, CannedAssign, CannedResponse, EventKind, Priority,
    TicketStatus,
};
use crate::store::{AdminChange, AdminWrite, AuditQuery, CannedUsage};
use crate::testkit::fixtures::{at, change};
use crate::{CannedResponseId, DuplicateKind, Error, TenantId, UserId};

fn canned(tenant: TenantId, owner: Option<UserId>, name: &str, creator: UserId) -> CannedResponse {
    CannedResponse {
        id: CannedResponseId::new(),
        tenant_id: tenant,
        owner,
        name: name.into(),
        body: format!("Hello {{{{customer.name}}}}, about {name}."),
        internal: false,
        actions: CannedActions {
            status: Some(TicketStatus::Pending),
            priority: Some(Priority::High),
            add_tags: vec!["refund".into(), "billing".into()],
            remove_tags: vec!["new".into()],
            assign: Some(CannedAssign::User { id: creator }),
        },
        created_by: creator,
        created_at: at(1),
        updated_at: at(1),
    }
}

async fn commit(store: &S, tenant: TenantId, change: AdminChange) -> crate::Result<()> {
    let kind = AuditKind::CannedResponseDeleted {
        canned_response: CannedResponseId::new(),
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

/// Canned responses round-trip every field, list by folded name per tenant, and keep
/// names unique per scope (shared, or one owner's) case-insensitively; every failed
/// change (a taken name or id, another tenant's or an unknown response) writes nothing,
/// not even its audit event.
pub async fn canned_responses_commit_with_audit_events_and_unique_names(store: S) {
    let (a, _, agent) = seed_tenant(&store, "acme").await;
    let (b, _, other_agent) = seed_tenant(&store, "globex").await;
    let shared = canned(a.id, None, "Refund issued", agent.id);
    let mut mine = canned(a.id, Some(agent.id), "refund ISSUED", agent.id);
    mine.internal = true;
    mine.actions = CannedActions::default();
    let apology = canned(a.id, None, "apology", agent.id);
    let theirs = canned(b.id, None, "Refund issued", other_agent.id);
    for c in [&shared, &mine, &apology, &theirs] {
        let change = AdminChange::CreateCannedResponse(c.clone());
        commit(&store, c.tenant_id, change).await.unwrap();
    }
    // By folded name, then id (the two "refund issued" of different scopes tie on name).
    let mut same_name = [shared.clone(), mine.clone()];
    same_name.sort_by_key(|c| c.id);
    let expected = [vec![apology.clone()], same_name.to_vec()].concat();
    assert_eq!(store.list_canned_responses(a.id).await.unwrap(), expected);
    assert_eq!(
        store.list_canned_responses(b.id).await.unwrap(),
        vec![theirs.clone()]
    );
    assert_eq!(
        store.get_canned_response(a.id, mine.id).await.unwrap(),
        Some(mine.clone())
    );
    assert_eq!(
        store.get_canned_response(b.id, mine.id).await.unwrap(),
        None
    );
    assert_eq!(audit_count(&store, a.id).await, 3);

    // A taken id, a taken name in the same scope (case and spaces folded): nothing written.
    assert_duplicate(
        commit(
            &store,
            a.id,
            AdminChange::CreateCannedResponse(shared.clone()),
        )
        .await,
        DuplicateKind::Id,
    );
    let again = canned(a.id, None, "  REFUND issued ", agent.id);
    assert_duplicate(
        commit(&store, a.id, AdminChange::CreateCannedResponse(again)).await,
        DuplicateKind::Name,
    );
    let again = canned(a.id, Some(agent.id), "Refund Issued", agent.id);
    assert_duplicate(
        commit(&store, a.id, AdminChange::CreateCannedResponse(again)).await,
        DuplicateKind::Name,
    );
    assert_eq!(audit_count(&store, a.id).await, 3);

    // An update replaces what may change and keeps id, tenant, creator and creation time.
    let mut renamed = apology.clone();
    renamed.name = "Apology for the delay".into();
    renamed.body = "Sorry, {{customer.first_name}}.".into();
    renamed.owner = Some(agent.id);
    renamed.internal = true;
    renamed.actions.assign = Some(CannedAssign::Me);
    renamed.updated_at = at(5);
    let mut sent = renamed.clone();
    sent.created_by = other_agent.id;
    sent.created_at = at(50);
    commit(&store, a.id, AdminChange::UpdateCannedResponse(sent))
        .await
        .unwrap();
    assert_eq!(
        store.get_canned_response(a.id, apology.id).await.unwrap(),
        Some(renamed.clone())
    );
    // Renaming onto a name taken in the (new) scope is refused; nothing changes.
    let mut clash = renamed.clone();
    clash.name = "REFUND issued".into();
    assert_duplicate(
        commit(&store, a.id, AdminChange::UpdateCannedResponse(clash)).await,
        DuplicateKind::Name,
    );
    assert_eq!(
        store.get_canned_response(a.id, apology.id).await.unwrap(),
        Some(renamed.clone())
    );
    assert_eq!(audit_count(&store, a.id).await, 4);

    // Another tenant's response or an unknown id: not found, nothing written.
    let mut foreign = theirs.clone();
    foreign.tenant_id = a.id;
    let unknown = canned(a.id, None, "unknown", agent.id);
    for change in [
        AdminChange::UpdateCannedResponse(foreign),
        AdminChange::UpdateCannedResponse(unknown.clone()),
        AdminChange::DeleteCannedResponse {
            tenant: a.id,
            id: theirs.id,
        },
        AdminChange::DeleteCannedResponse {
            tenant: a.id,
            id: unknown.id,
        },
    ] {
        let r = commit(&store, a.id, change).await;
        assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    }
    assert_eq!(audit_count(&store, a.id).await, 4);
    assert_eq!(
        store.get_canned_response(b.id, theirs.id).await.unwrap(),
        Some(theirs.clone())
    );

    // A change filed under another tenant than its response is refused.
    let r = commit(&store, b.id, AdminChange::CreateCannedResponse(unknown)).await;
    assert!(matches!(r, Err(Error::Validation { .. })), "{r:?}");

    let delete = AdminChange::DeleteCannedResponse {
        tenant: a.id,
        id: shared.id,
    };
    commit(&store, a.id, delete).await.unwrap();
    assert_eq!(
        store.get_canned_response(a.id, shared.id).await.unwrap(),
        None
    );
    assert_eq!(
        store.list_canned_responses(a.id).await.unwrap(),
        vec![renamed, mine.clone()]
    );
    // The freed name can be used again in its scope.
    let reused = canned(a.id, None, "Refund issued", agent.id);
    commit(&store, a.id, AdminChange::CreateCannedResponse(reused))
        .await
        .unwrap();
    assert_eq!(audit_count(&store, a.id).await, 6);
}

/// The usage count is the number of `canned_response_applied` events per response of the
/// tenant at or after `since`, most used first (then by id), with the last use; other
/// tenants' events and other kinds are not counted.
pub async fn canned_response_usage_counts_applied_events(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, other, _) = seed_tenant(&store, "globex").await;
    let refund = CannedResponseId::new();
    let hello = CannedResponseId::new();
    let applied = |id, name: &str| EventKind::CannedResponseApplied {
        canned_response: id,
        name: name.into(),
    };
    let first = create(&store, a.id, customer.id, "First", Priority::Low, 0).await;
    let second = create(&store, a.id, customer.id, "Second", Priority::Low, 0).await;
    let foreign = create(&store, b.id, other.id, "Foreign", Priority::Low, 0).await;
    let w = change(
        &first.ticket,
        vec![applied(hello, "hello")],
        at(2),
        Some(agent.id),
    );
    store.update_ticket(1, &w).await.unwrap();
    let w = change(
        &w.ticket,
        vec![
            applied(refund, "refund"),
            EventKind::TagsChanged {
                tags: vec!["refund".into()],
            },
        ],
        at(10),
        Some(agent.id),
    );
    store.update_ticket(2, &w).await.unwrap();
    let w = change(
        &second.ticket,
        vec![applied(refund, "refund")],
        at(20),
        None,
    );
    store.update_ticket(1, &w).await.unwrap();
    let w = change(&foreign.ticket, vec![applied(refund, "x")], at(30), None);
    store.update_ticket(1, &w).await.unwrap();

    let usage = store.canned_response_usage(a.id, at(0)).await.unwrap();
    assert_eq!(
        usage,
        vec![
            CannedUsage {
                canned_response: refund,
                uses: 2,
                last_used_at: at(20),
            },
            CannedUsage {
                canned_response: hello,
                uses: 1,
                last_used_at: at(2),
            },
        ]
    );
    let since = store.canned_response_usage(a.id, at(10)).await.unwrap();
    assert_eq!(
        since,
        vec![CannedUsage {
            canned_response: refund,
            uses: 2,
            last_used_at: at(20),
        }]
    );
    assert_eq!(
        store.canned_response_usage(a.id, at(21)).await.unwrap(),
        Vec::new()
    );
    let theirs = store.canned_response_usage(b.id, at(0)).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].uses, 1);
}
