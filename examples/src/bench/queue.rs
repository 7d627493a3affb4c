//! `queue`: the read paths agents and customers hit all day, on a SQLite store holding many
//! tickets over many tenants.
//!
//! Loading: opening a million tickets one by one through `open_ticket` would take hours
//! here, so a **bulk loader** writes the rows straight into the store's own schema (the
//! tables, indexes and full-text triggers of its migrations) with sqlx, in transactions of
//! `batch` rows, on one connection with a large page cache and `synchronous = NORMAL`.
//! Then `ANALYZE` runs, as the store's own `PRAGMA optimize` on close would, and the file
//! is reopened with `SqliteStore::open`. Everything measured afterwards is a real store
//! call through the `TicketStore` trait:
//!
//! - agent queue: `list_tickets` for one tenant, open statuses, priority then age, 50 rows
//!   (the queue page of helpdesk-web), tenants taken in turn;
//! - customer listing: `list_tickets` for one customer, newest first, up to 200 rows (the
//!   portal's page), customers taken at random;
//! - analytics: `analytics` of one tenant over the last 30 days;
//! - view counts: `count_tickets` of the views the desk's sidebar counts on every queue
//!   page (every open ticket, one agent's open tickets, the unassigned open ones), tenants
//!   taken in turn.

use std::time::Instant;

use helpdesk_core::domain::TicketStatus;
use helpdesk_core::store::{
    AssigneeFilter, TenantStore, TicketQuery, TicketSort, TicketStore, TimeRange,
};
use helpdesk_store_sqlite::SqliteStore;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

pub(crate) use super::queue_load::{LoadedTenant, bulk_load};
use super::{BoxError, PROFILE, Rng, Samples, ScratchDir, Step, bar, ms, print_table};

/// The p99 the issue asks for on the agent queue, in milliseconds.
pub const GOAL_QUEUE_P99_MS: f64 = 5.0;

/// The bound issue 20 puts on one saved view's count ("well under 50 ms" on 100,000
/// tickets), in milliseconds.
pub const GOAL_VIEW_COUNT_MS: f64 = 50.0;

/// Options of a queue run.
#[derive(Debug, Clone)]
pub struct QueueOptions {
    /// Tickets to load.
    pub size: usize,
    /// Tenants they are spread over.
    pub tenants: usize,
    /// Customers per tenant.
    pub customers: usize,
    /// Agents per tenant.
    pub agents: usize,
    /// Measured calls of each listing.
    pub queries: usize,
    /// Measured analytics calls.
    pub analytics_runs: usize,
    /// Rows per loader transaction.
    pub batch: usize,
}

/// The result of a queue run.
#[derive(Debug, Clone, Serialize)]
pub struct QueueReport {
    /// The store: `sqlite` or `postgres`.
    pub store: &'static str,
    /// The build profile of the binary.
    pub profile: &'static str,
    /// Tickets in the store.
    pub size: usize,
    /// Tenants.
    pub tenants: usize,
    /// How the store was filled.
    pub loader: &'static str,
    /// Seconds the bulk load took (not a measurement of the helpdesk).
    pub load_s: f64,
    /// Database size after loading, in bytes.
    pub db_bytes: u64,
    /// Median agent queue call.
    pub queue_p50_ms: f64,
    /// 99th percentile agent queue call.
    pub queue_p99_ms: f64,
    /// The goal for `queue_p99_ms`.
    pub goal_queue_p99_ms: f64,
    /// Median customer listing call.
    pub customer_p50_ms: f64,
    /// 99th percentile customer listing call.
    pub customer_p99_ms: f64,
    /// Median analytics summary call (30 days, one tenant).
    pub analytics_ms: f64,
    /// Slowest analytics summary call.
    pub analytics_max_ms: f64,
    /// Median view count (one `count_tickets`).
    pub view_count_p50_ms: f64,
    /// 99th percentile view count.
    pub view_count_p99_ms: f64,
    /// The bound on one view count.
    pub goal_view_count_ms: f64,
    /// Measured calls per listing.
    pub queries: usize,
}

impl QueueReport {
    /// Prints the report as a table.
    pub fn print(&self) {
        print_table(
            &format!(
                "queue ({} tickets over {} tenants, {}, {} build)",
                self.size,
                self.tenants,
                match self.store {
                    "postgres" => "PostgreSQL",
                    _ => "SQLite",
                },
                self.profile
            ),
            &[
                (
                    "loading",
                    format!(
                        "{:.1} s, {:.0} MB ({})",
                        self.load_s,
                        self.db_bytes as f64 / 1e6,
                        self.loader
                    ),
                ),
                (
                    "agent queue (50)",
                    format!(
                        "p50 {}, p99 {}  (goal p99 <= {} ms: {})",
                        ms(self.queue_p50_ms),
                        ms(self.queue_p99_ms),
                        self.goal_queue_p99_ms,
                        if self.queue_p99_ms <= self.goal_queue_p99_ms {
                            "met"
                        } else {
                            "missed"
                        }
                    ),
                ),
                (
                    "customer listing",
                    format!(
                        "p50 {}, p99 {}",
                        ms(self.customer_p50_ms),
                        ms(self.customer_p99_ms)
                    ),
                ),
                (
                    "analytics (30 days)",
                    format!(
                        "median {}, max {}",
                        ms(self.analytics_ms),
                        ms(self.analytics_max_ms)
                    ),
                ),
                (
                    "view count",
                    format!(
                        "p50 {}, p99 {}  (goal well under {} ms: {})",
                        ms(self.view_count_p50_ms),
                        ms(self.view_count_p99_ms),
                        self.goal_view_count_ms,
                        if self.view_count_p99_ms < self.goal_view_count_ms {
                            "met"
                        } else {
                            "missed"
                        }
                    ),
                ),
                ("samples", format!("{} per listing", self.queries)),
            ],
        );
    }
}

/// Runs the queue benchmark in a scratch folder under `dir`.
pub async fn run(
    options: &QueueOptions,
    dir: Option<&std::path::Path>,
) -> Result<QueueReport, BoxError> {
    let scratch = ScratchDir::new(dir, "queue")?;
    let path = scratch.path().join("queue.db");
    let now = Timestamp::now();

    let started = Instant::now();
    let store = SqliteStore::open(&path)
        .await
        .step(format!("opening {}", path.display()))?;
    let mut tenants = Vec::with_capacity(options.tenants);
    for i in 0..options.tenants.max(1) {
        let t = helpdesk_core::testkit::fixtures::tenant(&format!("tenant{i:03}"));
        store.create_tenant(&t).await.step("creating a tenant")?;
        tenants.push(t);
    }
    let raw = super::rows::RawRows::for_store(&store);
    store.close().await;
    let loaded = bulk_load(&path, &raw, tenants, options, now).await?;
    let load_s = started.elapsed().as_secs_f64();
    let db_bytes = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum();

    let store = SqliteStore::open(&path)
        .await
        .step(format!("reopening {}", path.display()))?;
    let loaded = Loaded {
        store: "sqlite",
        tenants: loaded,
        loader: "bulk sqlx inserts into the store's own schema (not open_ticket), then ANALYZE",
        load_s,
        db_bytes,
        now,
    };
    let report = measure(&store, &loaded, options).await;
    store.close().await;
    report
}

/// A filled store: its tenants and how it was filled.
pub(crate) struct Loaded {
    /// `sqlite` or `postgres`.
    pub(crate) store: &'static str,
    /// The tenants with their agents and customers.
    pub(crate) tenants: Vec<LoadedTenant>,
    /// How the store was filled.
    pub(crate) loader: &'static str,
    /// Seconds the load took.
    pub(crate) load_s: f64,
    /// The database's size after loading.
    pub(crate) db_bytes: u64,
    /// The time the tickets were made up to.
    pub(crate) now: Timestamp,
}

/// The measured part, the same on every store: the agent queue, the customer listing and
/// analytics through the `TicketStore` calls.
pub(crate) async fn measure(
    store: &dyn TicketStore,
    filled: &Loaded,
    options: &QueueOptions,
) -> Result<QueueReport, BoxError> {
    let (loaded, now) = (&filled.tenants, filled.now);
    if loaded.is_empty() {
        return Err("no tenant was loaded".into());
    }
    let queries = options.queries.max(1);
    let warmup = (queries / 10).clamp(1, 100);
    let mut rng = Rng::new(0xc0ffee);
    let progress = bar((2 * (queries + warmup)) as u64, "queue queries");

    let agent_queue = TicketQuery {
        statuses: TicketStatus::ALL
            .iter()
            .copied()
            .filter(TicketStatus::is_open)
            .collect(),
        sort: TicketSort::PriorityThenAge,
        limit: 50,
        ..TicketQuery::default()
    };
    let mut queue = Samples::with_capacity(queries);
    for i in 0..warmup + queries {
        let tenant = loaded[i % loaded.len()].id;
        let t = Instant::now();
        let page = store
            .list_tickets(tenant, &agent_queue)
            .await
            .step("agent queue query")?;
        let elapsed = t.elapsed();
        if page.items.is_empty() && options.size >= 20 * loaded.len() {
            return Err("the agent queue came back empty on a filled store".into());
        }
        if i >= warmup {
            queue.push(elapsed);
        }
        progress.inc(1);
    }

    let mut customer = Samples::with_capacity(queries);
    for i in 0..warmup + queries {
        let tenant = &loaded[rng.below(loaded.len())];
        let query = TicketQuery {
            requester: Some(tenant.customers[rng.below(tenant.customers.len())]),
            sort: TicketSort::Newest,
            limit: TicketQuery::MAX_LIMIT,
            ..TicketQuery::default()
        };
        let t = Instant::now();
        store
            .list_tickets(tenant.id, &query)
            .await
            .step("customer listing query")?;
        if i >= warmup {
            customer.push(t.elapsed());
        }
        progress.inc(1);
    }
    progress.finish_and_clear();

    let range = TimeRange::new(
        now.checked_sub(SignedDuration::from_hours(30 * 24))
            .step("computing the analytics range")?,
        now,
    )
    .step("analytics range")?;
    let runs = options.analytics_runs.max(1);
    let progress = bar((runs + 1) as u64, "analytics");
    let mut analytics = Samples::with_capacity(runs);
    for i in 0..=runs {
        let tenant = loaded[i % loaded.len()].id;
        let t = Instant::now();
        store
            .analytics(tenant, range, now)
            .await
            .step("analytics query")?;
        if i > 0 {
            analytics.push(t.elapsed());
        }
        progress.inc(1);
    }
    progress.finish_and_clear();

    let view_counts = count_views(store, loaded, queries, warmup).await?;

    Ok(QueueReport {
        store: filled.store,
        profile: PROFILE,
        size: options.size,
        tenants: loaded.len(),
        loader: filled.loader,
        load_s: filled.load_s,
        db_bytes: filled.db_bytes,
        queue_p50_ms: queue.median(),
        queue_p99_ms: queue.percentile(0.99),
        goal_queue_p99_ms: GOAL_QUEUE_P99_MS,
        customer_p50_ms: customer.median(),
        customer_p99_ms: customer.percentile(0.99),
        analytics_ms: analytics.median(),
        analytics_max_ms: analytics.percentile(1.0),
        view_count_p50_ms: view_counts.median(),
        view_count_p99_ms: view_counts.percentile(0.99),
        goal_view_count_ms: GOAL_VIEW_COUNT_MS,
        queries,
    })
}

/// Times `count_tickets` of the three views the sidebar counts most (every open ticket,
/// one agent's open tickets, the unassigned open ones), tenants in turn.
async fn count_views(
    store: &dyn TicketStore,
    loaded: &[LoadedTenant],
    queries: usize,
    warmup: usize,
) -> Result<Samples, BoxError> {
    let open: Vec<TicketStatus> = TicketStatus::ALL
        .iter()
        .copied()
        .filter(TicketStatus::is_open)
        .collect();
    let progress = bar((queries + warmup) as u64, "view counts");
    let mut samples = Samples::with_capacity(queries);
    for i in 0..warmup + queries {
        let tenant = &loaded[i % loaded.len()];
        let assignee = match i % 3 {
            0 => None,
            1 => tenant
                .agents
                .get(i % tenant.agents.len().max(1))
                .map(|a| AssigneeFilter::User(*a)),
            _ => Some(AssigneeFilter::Unassigned),
        };
        let query = TicketQuery {
            statuses: open.clone(),
            assignee,
            exclude_bot_chats: true,
            ..TicketQuery::default()
        };
        let t = Instant::now();
        store
            .count_tickets(tenant.id, &query)
            .await
            .step("view count query")?;
        if i >= warmup {
            samples.push(t.elapsed());
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(samples)
}
