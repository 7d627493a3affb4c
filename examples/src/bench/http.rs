//! `http`: the JSON API as its clients meet it — an in-process server on loopback with the
//! SQLite store, N concurrent clients with keep-alive connections.
//!
//! - ticket creates: `POST /api/v1/tickets` by customers (the whole intake: triage,
//!   routing, SLA, one commit), creates per second over the run and p50/p99;
//! - agent queue: `GET /api/v1/tickets?status=...` (open statuses, 50 rows) by agents, on a
//!   tenant holding `size` tickets (bulk-loaded like `queue`), p50/p99.
//!
//! Sessions are created in the store directly (one per client), so the measured path is
//! the request, bearer authentication, the use case and the JSON answer — not password
//! hashing, which is deliberately slow and rate limited.

use std::sync::Arc;
use std::time::{Duration, Instant};

use helpdesk_api::{ApiConfig, RateLimits};
use helpdesk_core::auth::{hash_token, new_token};
use helpdesk_core::domain::AuthSession;
use helpdesk_core::store::TenantStore;
use helpdesk_core::{Helpdesk, Store, UserId};
use helpdesk_store_sqlite::SqliteStore;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tokio::task::JoinSet;

use super::queue::{QueueOptions, bulk_load};
use super::{BoxError, PROFILE, Samples, ScratchDir, Step, ms, print_table};

/// Options of an http run.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Tickets loaded into the measured tenant before the queue is measured.
    pub size: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Requests per client, for each of the two measurements.
    pub requests: usize,
}

/// The result of an http run.
#[derive(Debug, Clone, Serialize)]
pub struct HttpReport {
    /// The build profile of the binary.
    pub profile: &'static str,
    /// Tickets in the measured tenant.
    pub size: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Ticket creates per second, all clients together.
    pub creates_per_s: f64,
    /// Median create.
    pub create_p50_ms: f64,
    /// 99th percentile create.
    pub create_p99_ms: f64,
    /// Median agent queue page.
    pub queue_p50_ms: f64,
    /// 99th percentile agent queue page.
    pub queue_p99_ms: f64,
    /// Queue pages per second, all clients together.
    pub queue_per_s: f64,
    /// Measured requests of each kind.
    pub requests: usize,
}

impl HttpReport {
    /// Prints the report as a table.
    pub fn print(&self) {
        print_table(
            &format!(
                "http ({} clients, keep-alive, SQLite with {} tickets, {} build)",
                self.clients, self.size, self.profile
            ),
            &[
                (
                    "POST tickets",
                    format!(
                        "{:.0}/s, p50 {}, p99 {}",
                        self.creates_per_s,
                        ms(self.create_p50_ms),
                        ms(self.create_p99_ms)
                    ),
                ),
                (
                    "GET tickets (agent queue, 50)",
                    format!(
                        "{:.0}/s, p50 {}, p99 {}",
                        self.queue_per_s,
                        ms(self.queue_p50_ms),
                        ms(self.queue_p99_ms)
                    ),
                ),
                ("samples", format!("{} per kind", self.requests)),
            ],
        );
    }
}

/// A session token for `user`, stored directly.
async fn session(
    store: &dyn Store,
    tenant: helpdesk_core::TenantId,
    user: UserId,
) -> Result<String, BoxError> {
    let token = new_token().step("making a token")?;
    let now = Timestamp::now();
    store
        .create_session(&AuthSession {
            token_hash: hash_token(&token),
            tenant_id: tenant,
            user_id: user,
            created_at: now,
            expires_at: now
                .checked_add(SignedDuration::from_hours(12))
                .step("session expiry")?,
        })
        .await
        .step("creating a session")?;
    Ok(token)
}

/// Runs `requests` requests on each of `tokens.len()` clients at once; returns the
/// latencies and the wall time.
async fn load<F>(
    tokens: &[String],
    requests: usize,
    request: F,
) -> Result<(Samples, Duration), BoxError>
where
    F: Fn(&reqwest::Client, &str, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let mut clients = JoinSet::new();
    for token in tokens {
        let token = token.clone();
        let request = Arc::clone(&request);
        clients.spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .step("building a client")?;
            let mut latencies = Vec::with_capacity(requests);
            for i in 0..requests {
                let t = Instant::now();
                let response = request(&client, &token, i).send().await.step("sending")?;
                let status = response.status();
                response.bytes().await.step("reading the answer")?;
                if !status.is_success() {
                    return Err(format!("the API answered {status}").into());
                }
                latencies.push(t.elapsed());
            }
            Ok::<_, BoxError>(latencies)
        });
    }
    let mut samples = Samples::with_capacity(tokens.len() * requests);
    while let Some(done) = clients.join_next().await {
        for latency in done.step("a client task")?? {
            samples.push(latency);
        }
    }
    Ok((samples, started.elapsed()))
}

/// Runs the http benchmark in a scratch folder under `dir`.
pub async fn run(
    options: &HttpOptions,
    dir: Option<&std::path::Path>,
) -> Result<HttpReport, BoxError> {
    let scratch = ScratchDir::new(dir, "http")?;
    let path = scratch.path().join("http.db");
    let clients = options.clients.max(1);
    let store = SqliteStore::open(&path).await.step("opening the store")?;
    let tenant = helpdesk_core::testkit::fixtures::tenant("bench");
    store
        .create_tenant(&tenant)
        .await
        .step("creating the tenant")?;
    let raw = super::rows::RawRows::for_store(&store);
    store.close().await;
    let loaded = bulk_load(
        &path,
        &raw,
        vec![tenant.clone()],
        &QueueOptions {
            size: options.size,
            tenants: 1,
            customers: clients.max(50),
            agents: clients,
            queries: 0,
            analytics_runs: 0,
            batch: 5_000,
        },
        Timestamp::now(),
    )
    .await?;
    let loaded = loaded.first().ok_or("the loader returned no tenant")?;

    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&path).await.step("reopening the store")?);
    let helpdesk = Helpdesk::builder(Arc::clone(&store))
        .build()
        .step("building the helpdesk")?;
    let config = ApiConfig::default().rate_limits(RateLimits::unlimited());
    let app = axum::Router::new().nest("/api/v1", helpdesk_api::router(helpdesk, config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .step("binding")?;
    let base = format!(
        "http://{}/api/v1",
        listener.local_addr().step("local address")?
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut customers = Vec::with_capacity(clients);
    let mut agents = Vec::with_capacity(clients);
    for i in 0..clients {
        customers.push(
            session(
                store.as_ref(),
                tenant.id,
                loaded.customers[i % loaded.customers.len()],
            )
            .await?,
        );
        agents.push(
            session(
                store.as_ref(),
                tenant.id,
                loaded.agents[i % loaded.agents.len()],
            )
            .await?,
        );
    }
    let requests = options.requests.max(1);
    let warmup = (requests / 10).max(1);

    let tickets = format!("{base}/tickets");
    let create = move |client: &reqwest::Client, token: &str, i: usize| {
        client.post(&tickets).bearer_auth(token).json(&serde_json::json!({
            "subject": format!("Cannot export invoice {i}"),
            "description": "The export button does nothing since this morning; I need the PDF for my accountant."
        }))
    };
    load(&customers, warmup, create.clone()).await?;
    let (created, created_wall) = load(&customers, requests, create).await?;

    let queue_url =
        format!("{base}/tickets?status=new,open,in_progress,pending,escalated&limit=50");
    let queue = move |client: &reqwest::Client, token: &str, _: usize| {
        client.get(&queue_url).bearer_auth(token)
    };
    load(&agents, warmup, queue.clone()).await?;
    let (listed, listed_wall) = load(&agents, requests, queue).await?;
    server.abort();

    let total = (clients * requests) as f64;
    Ok(HttpReport {
        profile: PROFILE,
        size: options.size,
        clients,
        creates_per_s: total / created_wall.as_secs_f64(),
        create_p50_ms: created.median(),
        create_p99_ms: created.percentile(0.99),
        queue_p50_ms: listed.median(),
        queue_p99_ms: listed.percentile(0.99),
        queue_per_s: total / listed_wall.as_secs_f64(),
        requests,
    })
}
