//! The storage conformance suite on the in-memory store.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use helpdesk_core::Store;
use helpdesk_core::store::MemoryStore;

async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

helpdesk_core::store_conformance_tests!(setup = fresh_store);

/// The whole suite again on a shared handle wrapped in another: `Arc<dyn Store>` is a
/// store itself (the forwarding impls), so every call goes through two layers of
/// forwarding. A method the forwarding forgot, or forwarded to the wrong method, fails
/// here.
mod through_shared_handles {
    use std::sync::Arc;

    use helpdesk_core::Store;
    use helpdesk_core::store::MemoryStore;

    async fn wrapped_store() -> Arc<dyn Store> {
        let shared: Arc<dyn Store> = Arc::new(MemoryStore::new());
        // An `Arc<Arc<dyn Store>>`, coerced to `Arc<dyn Store>`.
        Arc::new(shared)
    }

    helpdesk_core::store_conformance_tests!(setup = wrapped_store);

    #[test]
    fn the_backend_name_is_forwarded() {
        let shared: Arc<dyn Store> = Arc::new(MemoryStore::new());
        assert_eq!(Arc::new(shared).backend_name(), "memory");
    }
}

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
    let created = store.create_ticket(created).await.unwrap();

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
