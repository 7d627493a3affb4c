//! `intake-sqlite`, `intake-mongo` (and `intake-postgres`, in `postgres.rs`): tickets through [`Helpdesk::open_ticket`] against a
//! raw-driver baseline writing the same rows, measured side by side in one run.
//!
//! The helpdesk side does everything intake does: role check (user and tenant reads),
//! validation, rules triage, the ticket number, SLA due times, routing (agents and their
//! open loads), and the atomic write of the ticket, its events and the assignee's outbox
//! entry. The baseline writes rows of the same shape (ticket, its four events, one outbox
//! entry, made beforehand by the same `open_ticket` on the in-memory store, so their sizes
//! match) with the raw driver: on SQLite one `BEGIN IMMEDIATE` transaction per ticket in
//! the store's own schema, with the store's pragmas (WAL, `synchronous = FULL`); on MongoDB
//! one insert of the ticket, one of its events and one of its outbox entry. Encoding the
//! rows (JSON, BSON) is part of both sides.
//!
//! The run alternates batches of the two sides (`rounds` of `n / rounds` tickets each, the
//! order swapped every round) so drift of a noisy machine hits both alike; each rate is
//! the median of its per-round rates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use helpdesk_core::domain::{Actor, Event, OutboxEntry, Role, Tenant, Ticket};
use helpdesk_core::service::{NewTenant, NewTicket, NewUser};
use helpdesk_core::store::MemoryStore;
use helpdesk_core::store::{OutboxStore, TenantStore, TicketStore};
use helpdesk_core::{DynStore, Helpdesk};
use helpdesk_store_mongo::MongoStore;
use helpdesk_store_sqlite::{Durability, SqliteStore};
use serde::Serialize;

use super::{
    BoxError, PROFILE, Samples, ScratchDir, Step, TICKET_TEXTS, bar, ms, open_sqlite, print_table,
};

/// The ratio the issue asks for (helpdesk rate / baseline rate).
pub const GOAL_RATIO: f64 = 0.7;

/// Options of an intake run.
#[derive(Debug, Clone)]
pub struct IntakeOptions {
    /// Tickets measured on each side.
    pub n: usize,
    /// Alternating batches (each side gets `n / rounds` tickets per round).
    pub rounds: usize,
    /// Tickets per side opened before measuring (not reported).
    pub warmup: usize,
    /// Customers the tickets are spread over.
    pub customers: usize,
    /// SQLite durability of both files (`intake-sqlite` only).
    pub durability: Durability,
}

/// The result of an intake run.
#[derive(Debug, Clone, Serialize)]
pub struct IntakeReport {
    /// `sqlite`, `mongodb` or `postgres`.
    pub backend: &'static str,
    /// SQLite durability of both sides (`power-loss`: `synchronous = FULL`, the store's
    /// default; `process-crash`: `synchronous = NORMAL`), `server default` on MongoDB,
    /// the server's `fsync on` or `fsync off` on PostgreSQL.
    pub durability: &'static str,
    /// The build profile of the binary.
    pub profile: &'static str,
    /// Tickets measured per side.
    pub n: usize,
    /// Alternating rounds.
    pub rounds: usize,
    /// Tickets per second through `Helpdesk::open_ticket` (median of the rounds).
    pub helpdesk_per_s: f64,
    /// Tickets per second written by the raw-driver baseline (median of the rounds).
    pub baseline_per_s: f64,
    /// `helpdesk_per_s / baseline_per_s`.
    pub ratio: f64,
    /// The goal for `ratio`.
    pub goal_ratio: f64,
    /// Median latency of one `open_ticket`.
    pub helpdesk_p50_ms: f64,
    /// 99th percentile latency of one `open_ticket`.
    pub helpdesk_p99_ms: f64,
    /// Median latency of one baseline ticket.
    pub baseline_p50_ms: f64,
    /// 99th percentile latency of one baseline ticket.
    pub baseline_p99_ms: f64,
}

impl IntakeReport {
    /// Prints the report as a table.
    pub fn print(&self) {
        print_table(
            &format!(
                "intake-{} ({} tickets per side, {} alternating rounds, durability {}, {} build)",
                self.backend, self.n, self.rounds, self.durability, self.profile
            ),
            &[
                (
                    "helpdesk open_ticket",
                    format!(
                        "{:.1} tickets/s  (p50 {}, p99 {})",
                        self.helpdesk_per_s,
                        ms(self.helpdesk_p50_ms),
                        ms(self.helpdesk_p99_ms)
                    ),
                ),
                (
                    "raw-driver baseline",
                    format!(
                        "{:.1} tickets/s  (p50 {}, p99 {})",
                        self.baseline_per_s,
                        ms(self.baseline_p50_ms),
                        ms(self.baseline_p99_ms)
                    ),
                ),
                (
                    "ratio",
                    format!(
                        "{:.3}  (goal >= {}: {})",
                        self.ratio,
                        self.goal_ratio,
                        if self.ratio >= self.goal_ratio {
                            "met"
                        } else {
                            "missed"
                        }
                    ),
                ),
            ],
        );
    }
}

/// The rows of one ticket, as `open_ticket` wrote them.
#[derive(Debug, Clone)]
pub(crate) struct TicketRows {
    pub(crate) ticket: Ticket,
    pub(crate) events: Vec<Event>,
    pub(crate) outbox: Vec<OutboxEntry>,
}

/// A raw-driver writer of [`TicketRows`].
#[async_trait]
pub(crate) trait Baseline: Send + Sync {
    /// Writes what the rows refer to (the tenant), outside the measurement.
    async fn prepare(&self, tenant: &Tenant) -> Result<(), BoxError>;
    /// Writes one ticket's rows.
    async fn insert(&self, rows: &TicketRows) -> Result<(), BoxError>;
}

/// A tenant with an admin, three agents (one per skill) and `customers` customers.
struct World {
    helpdesk: Helpdesk,
    tenant: Tenant,
    customers: Vec<Actor>,
}

impl World {
    async fn new(helpdesk: Helpdesk, slug: &str, customers: usize) -> Result<Self, BoxError> {
        let (tenant, admin) = helpdesk
            .register_tenant(NewTenant {
                name: format!("Bench {slug}"),
                slug: slug.into(),
                admin: NewUser::new(&format!("admin@{slug}.test"), "Ada Admin", Role::Admin),
                settings: None,
            })
            .await
            .step(format!("registering tenant {slug}"))?;
        let admin = Actor::for_user(&admin);
        for (i, skill) in ["billing", "technical", "account"].iter().enumerate() {
            helpdesk
                .add_user(
                    &admin,
                    NewUser::new(&format!("agent{i}@{slug}.test"), "Agent", Role::Agent)
                        .with_skills(&[skill]),
                )
                .await
                .step("adding an agent")?;
        }
        let mut actors = Vec::with_capacity(customers);
        for i in 0..customers.max(1) {
            let user = helpdesk
                .add_user(
                    &admin,
                    NewUser::new(
                        &format!("customer{i}@example.com"),
                        "Customer",
                        Role::Customer,
                    ),
                )
                .await
                .step("adding a customer")?;
            actors.push(Actor::for_user(&user));
        }
        Ok(Self {
            helpdesk,
            tenant,
            customers: actors,
        })
    }

    fn ticket(i: usize) -> NewTicket {
        let (subject, description) = TICKET_TEXTS[i % TICKET_TEXTS.len()];
        NewTicket::new(subject, &format!("{description} (ref {i})"))
    }

    async fn open(&self, i: usize) -> Result<Ticket, BoxError> {
        let actor = &self.customers[i % self.customers.len()];
        let out = self
            .helpdesk
            .open_ticket(actor, Self::ticket(i))
            .await
            .step(format!("open_ticket #{i}"))?;
        Ok(out.ticket)
    }
}

/// Rows of `n` tickets made by `open_ticket` on the in-memory store (same texts, same
/// world shape as the measured side), for the baseline to write.
async fn baseline_rows(n: usize, customers: usize) -> Result<(Vec<TicketRows>, World), BoxError> {
    let store = Arc::new(MemoryStore::new());
    let helpdesk = Helpdesk::builder(store.clone())
        .build()
        .step("building the row generator")?;
    let world = World::new(helpdesk, "rows", customers).await?;
    let mut tickets = Vec::with_capacity(n);
    for i in 0..n {
        tickets.push(world.open(i).await?);
    }
    let mut outbox = store
        .list_outbox(world.tenant.id)
        .await
        .step("reading the generated outbox")?;
    let mut rows = Vec::with_capacity(n);
    for ticket in tickets {
        let events = store
            .list_events(ticket.tenant_id, ticket.id)
            .await
            .step("reading generated events")?;
        let (mine, rest): (Vec<_>, Vec<_>) = outbox
            .into_iter()
            .partition(|o| o.notification.ticket_id == ticket.id);
        outbox = rest;
        rows.push(TicketRows {
            ticket,
            events,
            outbox: mine,
        });
    }
    Ok((rows, world))
}

struct SqliteBaseline {
    store: SqliteStore,
    /// The raw statements for the store's tables, built once.
    rows: super::rows::RawRows,
}

#[async_trait]
impl Baseline for SqliteBaseline {
    async fn prepare(&self, tenant: &Tenant) -> Result<(), BoxError> {
        // Tickets and outbox rows refer to their tenant (foreign keys).
        self.store
            .create_tenant(tenant)
            .await
            .step("baseline: writing the tenant row")
    }

    async fn insert(&self, rows: &TicketRows) -> Result<(), BoxError> {
        let mut tx = self
            .store
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .step("baseline: BEGIN IMMEDIATE")?;
        self.rows.insert_ticket(&mut tx, &rows.ticket).await?;
        for e in &rows.events {
            self.rows.insert_event(&mut tx, e).await?;
        }
        for o in &rows.outbox {
            self.rows.insert_outbox(&mut tx, o).await?;
        }
        tx.commit().await.step("baseline: COMMIT")?;
        Ok(())
    }
}

struct MongoBaseline {
    /// A store on the baseline's database: its collections and indexes, written around it.
    store: MongoStore,
}

impl MongoBaseline {
    /// The store's collection `name`, under its prefix, so the baseline writes into the
    /// same indexed collections the helpdesk does.
    fn coll(&self, name: &str) -> mongodb::Collection<bson::Document> {
        self.store
            .database()
            .collection::<bson::Document>(&self.store.collection_name(name))
    }
}

fn bson_doc<T: Serialize>(value: &T, id: String) -> Result<bson::Document, BoxError> {
    let mut d = bson::to_document(value).step("encoding BSON")?;
    d.insert("_id", id);
    Ok(d)
}

#[async_trait]
impl Baseline for MongoBaseline {
    async fn prepare(&self, _tenant: &Tenant) -> Result<(), BoxError> {
        Ok(())
    }

    async fn insert(&self, rows: &TicketRows) -> Result<(), BoxError> {
        let ticket = bson_doc(&rows.ticket, rows.ticket.id.to_string())?;
        self.coll("tickets")
            .insert_one(ticket)
            .await
            .step("baseline: inserting a ticket")?;
        let events = rows
            .events
            .iter()
            .map(|e| bson_doc(e, e.id.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        if !events.is_empty() {
            self.coll("events")
                .insert_many(events)
                .await
                .step("baseline: inserting events")?;
        }
        let outbox = rows
            .outbox
            .iter()
            .map(|o| bson_doc(o, o.id.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        if !outbox.is_empty() {
            self.coll("outbox")
                .insert_many(outbox)
                .await
                .step("baseline: inserting outbox entries")?;
        }
        Ok(())
    }
}

/// Runs the side-by-side measurement on a built helpdesk and baseline.
pub(crate) async fn measure(
    backend: &'static str,
    durability: &'static str,
    options: &IntakeOptions,
    store: DynStore,
    baseline: &dyn Baseline,
) -> Result<IntakeReport, BoxError> {
    let rounds = options.rounds.clamp(1, options.n.max(1));
    let per_round = options.n.div_ceil(rounds).max(1);
    let total = options.warmup + per_round * rounds;
    let generating = super::spinner("baseline rows");
    let (rows, generator) = baseline_rows(total, options.customers).await?;
    generating.finish_and_clear();
    baseline.prepare(&generator.tenant).await?;
    let helpdesk = Helpdesk::builder(store)
        .build()
        .step("building the helpdesk")?;
    let world = World::new(helpdesk, "intake", options.customers).await?;

    for (i, row) in rows.iter().enumerate().take(options.warmup) {
        world.open(i).await?;
        baseline.insert(row).await?;
    }
    let progress = bar(
        (per_round * rounds * 2) as u64,
        &format!("intake-{backend}"),
    );
    let (mut hd_lat, mut base_lat) = (
        Samples::with_capacity(per_round * rounds),
        Samples::with_capacity(per_round * rounds),
    );
    let (mut hd_rates, mut base_rates) = (Samples::default(), Samples::default());
    let mut next = options.warmup;
    for round in 0..rounds {
        let range = next..next + per_round;
        next += per_round;
        for side in 0..2 {
            let helpdesk_side = (round + side) % 2 == 0;
            let started = Instant::now();
            for i in range.clone() {
                let t = Instant::now();
                if helpdesk_side {
                    world.open(i).await?;
                    hd_lat.push(t.elapsed());
                } else {
                    baseline.insert(&rows[i]).await?;
                    base_lat.push(t.elapsed());
                }
                progress.inc(1);
            }
            let rate =
                per_round as f64 / started.elapsed().max(Duration::from_nanos(1)).as_secs_f64();
            if helpdesk_side {
                hd_rates.push_ms(rate);
            } else {
                base_rates.push_ms(rate);
            }
        }
    }
    progress.finish_and_clear();
    let (helpdesk_per_s, baseline_per_s) = (hd_rates.median(), base_rates.median());
    Ok(IntakeReport {
        backend,
        durability,
        profile: PROFILE,
        n: per_round * rounds,
        rounds,
        helpdesk_per_s,
        baseline_per_s,
        ratio: helpdesk_per_s / baseline_per_s.max(f64::MIN_POSITIVE),
        goal_ratio: GOAL_RATIO,
        helpdesk_p50_ms: hd_lat.median(),
        helpdesk_p99_ms: hd_lat.percentile(0.99),
        baseline_p50_ms: base_lat.median(),
        baseline_p99_ms: base_lat.percentile(0.99),
    })
}

/// `intake-sqlite`: two SQLite files in a scratch folder under `dir` (the system temp
/// folder by default), both opened like `SqliteStore::open` (WAL, migrations) with
/// `options.durability`, one for the helpdesk and one for the baseline.
pub async fn sqlite(
    options: &IntakeOptions,
    dir: Option<&std::path::Path>,
) -> Result<IntakeReport, BoxError> {
    let scratch = ScratchDir::new(dir, "intake")?;
    let store = open_sqlite(&scratch.path().join("helpdesk.db"), options.durability).await?;
    let baseline_store =
        open_sqlite(&scratch.path().join("baseline.db"), options.durability).await?;
    let baseline = SqliteBaseline {
        rows: super::rows::RawRows::for_store(&baseline_store),
        store: baseline_store.clone(),
    };
    let report = measure(
        "sqlite",
        options.durability.as_str(),
        options,
        Arc::new(store.clone()),
        &baseline,
    )
    .await;
    store.close().await;
    baseline_store.close().await;
    report
}

/// `intake-mongo`: two fresh databases on `uri` (dropped at the end), the helpdesk's
/// through `MongoStore::connect` and the baseline's with the same collections and indexes
/// (made by `MongoStore::connect`, then written with the raw driver).
pub async fn mongo(options: &IntakeOptions, uri: &str) -> Result<IntakeReport, BoxError> {
    let suffix = format!(
        "{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_second()
    );
    let store = MongoStore::connect(uri, &format!("bench_helpdesk_{suffix}"))
        .await
        .step("connecting to MongoDB (helpdesk database)")?;
    let baseline_store = MongoStore::connect(uri, &format!("bench_baseline_{suffix}"))
        .await
        .step("connecting to MongoDB (baseline database)")?;
    let baseline = MongoBaseline {
        store: baseline_store.clone(),
    };
    let result = measure(
        "mongodb",
        "server default",
        options,
        Arc::new(store.clone()),
        &baseline,
    )
    .await;
    for db in [store.database(), baseline_store.database()] {
        if let Err(e) = db.drop().await {
            eprintln!("helpdesk-bench: could not drop database {}: {e}", db.name());
        }
    }
    result
}
