//! Shared set-up for the attachment tests: a helpdesk on a counting memory store with a
//! memory blob store, and a second tenant.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::Arc;

use helpdesk_core::blob::BlobStore;
use helpdesk_core::domain::{Actor, Role, TenantSettings};
use helpdesk_core::service::{NewAttachment, NewTenant, NewUser};
use helpdesk_core::store::MemoryStore;
use helpdesk_core::testkit::{CountingStore, ManualClock, MemoryBlobStore};
use helpdesk_core::{Error, Helpdesk, Store};

pub struct Desk {
    pub hd: Helpdesk,
    pub store: Arc<CountingStore>,
    pub blobs: Arc<MemoryBlobStore>,
    pub admin: Actor,
    pub agent: Actor,
    pub customer: Actor,
    pub customer2: Actor,
    /// The admin of another tenant on the same helpdesk.
    pub other_admin: Actor,
}

/// A helpdesk whose tenants have `settings`, with a memory blob store unless `blobs` is
/// false.
pub async fn desk_with(settings: TenantSettings, blobs: bool) -> Desk {
    let memory = Arc::new(MemoryBlobStore::new());
    let configured = blobs.then(|| memory.clone() as Arc<dyn BlobStore>);
    desk_on(settings, configured, memory).await
}

pub async fn desk() -> Desk {
    desk_with(TenantSettings::default(), true).await
}

/// A helpdesk with `blob_store` configured; `memory` is the memory store the test looks
/// into (the configured one, or the one inside it).
pub async fn desk_on(
    settings: TenantSettings,
    blob_store: Option<Arc<dyn BlobStore>>,
    memory: Arc<MemoryBlobStore>,
) -> Desk {
    let store = Arc::new(CountingStore::new(Arc::new(MemoryStore::new())));
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let mut builder = Helpdesk::builder(store.clone() as Arc<dyn Store>).clock(clock);
    if let Some(blobs) = blob_store {
        builder = builder.blob_store(blobs);
    }
    let hd = builder.build().unwrap();
    let register = |slug: &str| NewTenant {
        name: slug.into(),
        slug: slug.into(),
        admin: NewUser::new(&format!("admin@{slug}.test"), "Admin", Role::Admin),
        settings: Some(settings.clone()),
    };
    let (_, admin) = hd.register_tenant(register("acme")).await.unwrap();
    let (_, other) = hd.register_tenant(register("other")).await.unwrap();
    let admin = Actor::for_user(&admin);
    let add = async |email: &str, role: Role| {
        Actor::for_user(
            &hd.add_user(&admin, NewUser::new(email, "Someone", role))
                .await
                .unwrap(),
        )
    };
    let agent = add("agent@acme.test", Role::Agent).await;
    let customer = add("carl@customer.test", Role::Customer).await;
    let customer2 = add("cora@customer.test", Role::Customer).await;
    store.take();
    Desk {
        hd,
        store,
        blobs: memory,
        admin,
        agent,
        customer,
        customer2,
        other_admin: Actor::for_user(&other),
    }
}

/// The first bytes of a PNG file.
pub const PNG: [u8; 16] = [
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
];

pub fn file(name: &str, bytes: &[u8]) -> NewAttachment {
    NewAttachment::new(name, bytes.to_vec())
}

/// The validation error's field, or a panic.
pub fn invalid_field(e: Error) -> String {
    match e {
        Error::Validation { field, .. } => field.into_owned(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

pub fn is_not_found(e: &Error, entity: &str) -> bool {
    matches!(e, Error::NotFound { entity: found, .. } if *found == entity)
}
