//! Several `Helpdesk` instances (each with its own pool, as separate processes would have)
//! on one database: outbox delivery and SLA sweeps run under lease rows, so a notification
//! is delivered once and a breach recorded once however the instances interleave.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::domain::{Actor, EventKind, OutboxEntry, Role, SlaKind, Tenant};
use helpdesk_core::service::{NewTenant, NewTicket, NewUser};
use helpdesk_core::store::{LeaseStore, OutboxStore, TicketStore};
use helpdesk_core::testkit::ManualClock;
use helpdesk_core::testkit::fixtures::at;
use helpdesk_core::{BoxError, Clock, Helpdesk, Notifier, OutboxId, Store};
use helpdesk_store_postgres::PostgresStore;

use common::{fresh_database, options_for};

/// Counts deliveries per entry; each delivery takes a moment, so the instances' batches
/// would overlap if nothing kept them apart.
#[derive(Debug, Default)]
struct CountingNotifier {
    delivered: Mutex<HashMap<OutboxId, u32>>,
}

#[async_trait]
impl Notifier for CountingNotifier {
    async fn deliver(&self, _tenant: &Tenant, entry: &OutboxEntry) -> Result<(), BoxError> {
        tokio::time::sleep(Duration::from_millis(2)).await;
        *self.delivered.lock().unwrap().entry(entry.id).or_default() += 1;
        Ok(())
    }
}

/// A store with a pool of its own on database `name` (one "process").
async fn instance_store(name: &str) -> Arc<dyn Store> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options_for(name))
        .await
        .unwrap();
    let store = PostgresStore::new(pool);
    // Both instances migrate at start-up, as they would; the second finds nothing to do.
    store.migrate().await.unwrap();
    Arc::new(store)
}

struct Setup {
    first: Helpdesk,
    second: Helpdesk,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    notifier: Arc<CountingNotifier>,
    tenant: Tenant,
    customer: Actor,
}

async fn two_instances() -> Setup {
    let name = fresh_database().await;
    let (store_a, store_b) = tokio::join!(instance_store(&name), instance_store(&name));
    // Monday 2 March 2026, 09:00 UTC: inside the default business hours.
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let notifier = Arc::new(CountingNotifier::default());
    let build = |store: Arc<dyn Store>| {
        Helpdesk::builder(store)
            .clock(clock.clone())
            .notifier(notifier.clone())
            .build()
            .unwrap()
    };
    let (first, second) = (build(store_a.clone()), build(store_b));
    let (tenant, admin) = first
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.test", "Ada", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    first
        .add_user(&admin, NewUser::new("agent@acme.test", "Bob", Role::Agent))
        .await
        .unwrap();
    let customer = second
        .add_user(
            &admin,
            NewUser::new("carl@customer.test", "Carl", Role::Customer),
        )
        .await
        .unwrap();
    Setup {
        first,
        second,
        store: store_a,
        clock,
        notifier,
        tenant,
        customer: Actor::for_user(&customer),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn two_instances_deliver_each_notification_once() {
    let s = two_instances().await;
    for i in 0..12 {
        let hd = if i % 2 == 0 { &s.first } else { &s.second };
        hd.open_ticket(
            &s.customer,
            NewTicket::new(&format!("Question {i}"), "Help"),
        )
        .await
        .unwrap();
    }
    let queued = s.store.list_outbox(s.tenant.id).await.unwrap();
    assert!(queued.len() >= 12, "every ticket queues notifications");

    let mut set = tokio::task::JoinSet::new();
    for hd in [s.first.clone(), s.second.clone()] {
        set.spawn(async move {
            let mut ran = 0;
            for _ in 0..40 {
                if hd.dispatch_outbox().await.unwrap().ran {
                    ran += 1;
                }
                tokio::task::yield_now().await;
            }
            ran
        });
    }
    let mut runs = 0;
    while let Some(r) = set.join_next().await {
        runs += r.unwrap();
    }
    assert!(runs > 0);
    // Whatever is left (a run that found the lease taken each time) goes out now.
    while !s
        .store
        .due_outbox(s.clock.now(), 100)
        .await
        .unwrap()
        .is_empty()
    {
        s.first.dispatch_outbox().await.unwrap();
    }
    let delivered = s.notifier.delivered.lock().unwrap().clone();
    let stored = s.store.list_outbox(s.tenant.id).await.unwrap();
    assert_eq!(delivered.len(), stored.len(), "every entry delivered");
    for entry in &stored {
        assert_eq!(delivered.get(&entry.id), Some(&1), "{:?}", entry.id);
        assert!(entry.delivered_at.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn two_instances_record_each_sla_breach_once() {
    let s = two_instances().await;
    let mut tickets = Vec::new();
    for i in 0..8 {
        let t = s
            .first
            .open_ticket(
                &s.customer,
                NewTicket::new(&format!("Site down, urgent {i}"), "outage"),
            )
            .await
            .unwrap()
            .ticket;
        tickets.push(t.id);
    }
    // Past the urgent first-response target (1 h), before the resolution target.
    s.clock.advance(Duration::from_secs(2 * 3600));
    let mut set = tokio::task::JoinSet::new();
    for hd in [s.first.clone(), s.second.clone()] {
        for _ in 0..3 {
            let hd = hd.clone();
            set.spawn(async move { hd.sla_sweep().await.unwrap().breaches });
        }
    }
    let mut breaches = 0;
    while let Some(r) = set.join_next().await {
        breaches += r.unwrap();
    }
    // Sweeps that found the lease taken did nothing; one more sweep finds nothing left.
    breaches += s.second.sla_sweep().await.unwrap().breaches;
    assert_eq!(breaches, 8);
    for id in tickets {
        let events = s.store.list_events(s.tenant.id, id).await.unwrap();
        let recorded: Vec<SlaKind> = events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::SlaBreached { kind } => Some(kind),
                _ => None,
            })
            .collect();
        assert_eq!(recorded, vec![SlaKind::FirstResponse]);
    }
}

/// Two pools (two processes) race for one lease at the same instant: exactly one holder
/// wins; after expiry another takes it over.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn one_lease_holder_across_instances() {
    let name = fresh_database().await;
    let (first, second) = tokio::join!(instance_store(&name), instance_store(&name));
    let ttl = Duration::from_secs(30);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..32u32 {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        set.spawn(async move {
            let holder = format!("process-{i}");
            let won = store
                .try_acquire_lease("sla-sweep", &holder, at(0), ttl)
                .await
                .unwrap();
            won.then_some(holder)
        });
    }
    let mut winners = Vec::new();
    while let Some(r) = set.join_next().await {
        winners.extend(r.unwrap());
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert!(
        !second
            .try_acquire_lease("sla-sweep", "late", at(0), ttl)
            .await
            .unwrap()
    );
    let after_expiry = at(0).checked_add(ttl).unwrap();
    assert!(
        second
            .try_acquire_lease("sla-sweep", "late", after_expiry, ttl)
            .await
            .unwrap()
    );
    assert!(
        !first
            .try_acquire_lease("sla-sweep", &winners[0], after_expiry, ttl)
            .await
            .unwrap()
    );
}
