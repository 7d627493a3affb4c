//! The storage conformance suite on the in-memory store.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use helpdesk_core::Store;
use helpdesk_core::store::MemoryStore;

async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

helpdesk_core::store_conformance_tests!(setup = fresh_store);

/// The reference store refuses a `previous` that is not what it holds at the expected
/// version (another backend would diff against it and drop the differences), and writes
/// nothing.
#[tokio::test]
async fn a_previous_that_is_not_the_stored_ticket_is_refused() {
    use helpdesk_core::Error;
    use helpdesk_core::domain::{EventKind, Priority, Role};
    use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};

    let store = fresh_store().await;
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();
    let created = new_ticket(t.id, customer.id, 1, "Help", Priority::Low, at(0));
    store.create_ticket(&created).await.unwrap();

    let mut write = change(
        &created.ticket,
        vec![EventKind::TagsChanged {
            tags: vec!["x".into()],
        }],
        at(1),
        None,
    );
    if let Some(previous) = &mut write.previous {
        previous.subject = "Not what is stored".into();
    }
    match store.update_ticket(1, &write).await {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "previous"),
        other => panic!("expected a Validation error on previous, got {other:?}"),
    }
    assert_eq!(
        store.get_ticket(t.id, created.ticket.id).await.unwrap(),
        Some(created.ticket)
    );
}
