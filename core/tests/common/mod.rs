//! Shared set-up for the service tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::Arc;

use helpdesk_core::domain::{Actor, Role, Tenant, User};
use helpdesk_core::service::{NewTenant, NewUser};
use helpdesk_core::store::MemoryStore;
use helpdesk_core::testkit::ManualClock;
use helpdesk_core::{Helpdesk, HelpdeskBuilder, Store};

pub struct World {
    pub hd: Helpdesk,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub tenant: Tenant,
    pub admin: Actor,
    pub agent: Actor,
    pub agent2: Actor,
    pub customer: Actor,
    pub customer2: Actor,
}

pub fn monday_9am() -> jiff::Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

pub async fn world() -> World {
    world_with(|b| b).await
}

pub async fn world_with(configure: impl FnOnce(HelpdeskBuilder) -> HelpdeskBuilder) -> World {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(monday_9am()));
    let hd = configure(Helpdesk::builder(store.clone()).clock(clock.clone()))
        .build()
        .unwrap();
    let (tenant, admin) = hd
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.test", "Ada Admin", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    let agent = add(
        &hd,
        &admin,
        NewUser::new("agent@acme.test", "Bob Billing", Role::Agent).with_skills(&["billing"]),
    )
    .await;
    let agent2 = add(
        &hd,
        &admin,
        NewUser::new("tech@acme.test", "Tess Tech", Role::Agent)
            .with_skills(&["technical", "account"]),
    )
    .await;
    let customer = add(
        &hd,
        &admin,
        NewUser::new("carl@customer.test", "Carl", Role::Customer),
    )
    .await;
    let customer2 = add(
        &hd,
        &admin,
        NewUser::new("cora@customer.test", "Cora", Role::Customer),
    )
    .await;
    World {
        hd,
        store,
        clock,
        tenant,
        admin,
        agent: Actor::for_user(&agent),
        agent2: Actor::for_user(&agent2),
        customer: Actor::for_user(&customer),
        customer2: Actor::for_user(&customer2),
    }
}

pub async fn add(hd: &Helpdesk, admin: &Actor, new: NewUser) -> User {
    hd.add_user(admin, new).await.unwrap()
}
