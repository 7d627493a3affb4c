//! The figures of issue 22 in BENCHMARKS.md ("Several instances on one database"), from
//! real `helpdesk-web` processes (debug build, default sweep and lease times) on one
//! database of the test servers. Ignored: a measurement, not a check. Run with
//!
//! ```text
//! eval "$(scripts/setup-model.sh)" && export ORT_DYLIB_PATH HELPDESK_MODEL_DIR
//! eval "$(scripts/start-mongo.sh)"; eval "$(scripts/start-postgres.sh)"
//! cargo test -p helpdesk-examples --features helpdesk-mail/imap,helpdesk-mail/smtp \
//!   --test web_processes_bench -- --ignored --nocapture --test-threads 1
//! ```
//!
//! Each backend prints one `figures {...}` JSON line:
//! - `kb_delay_ms`: an article saved through the API of one instance (in turn A, B, C),
//!   then searched for through the API of each other instance every 50 ms: the time from
//!   the save's answer to the first search that finds it (so the embedding on the saving
//!   instance, its write of the vectors, and the searching instance's catch-up, which runs
//!   when its last one is older than `kb_sync_interval`, 1 s). `HELPDESK_BENCH_ARTICLES`
//!   articles (default 6), two delays each.
//! - `intake_1_per_s` / `intake_3_per_s`: tickets opened per second through the JSON API
//!   by `HELPDESK_BENCH_CLIENTS` concurrent clients (default 8), each a customer of its own
//!   on a loopback address of its own (so no per-caller or per-address rate limit is
//!   reached), opening `HELPDESK_BENCH_TICKETS` tickets (default 25) one after another,
//!   all through instance A (1) or spread over A, B and C (3); the three processes run in
//!   both cases. `HELPDESK_BENCH_ROUNDS` rounds (default 3), the order swapped each round;
//!   `ratio` = 3-instance rate / 1-instance rate per round. `unassigned_1` / `_3`: tickets
//!   left unassigned because routing kept conflicting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod instances_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use instances_support::api::{Api, Login, Logins, Token};
use instances_support::{Backend, Cluster, Database, eventually, median};
use serde_json::json;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[ignore = "benchmark (needs MONGODB_URI): see the file's docs"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_on_mongodb() {
    figures(Backend::Mongo).await;
}

#[ignore = "benchmark (needs HELPDESK_POSTGRES_URL): see the file's docs"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_on_postgres() {
    figures(Backend::Postgres).await;
}

async fn figures(backend: Backend) {
    let db = Database::fresh(backend).await;
    let mut cluster = Cluster::new(&db, 3, None, &[]);
    tokio::task::block_in_place(|| cluster.start_all());
    let logins = Logins::parse(&cluster.instances[0].printed);
    let bases = cluster.running();
    let api = Api::new();
    let admin = api.login(&bases[0], &logins.admin).await;
    let customer = api.login(&bases[0], &logins.customer).await;

    let mut kb_delays = Vec::new();
    for n in 0..setting("HELPDESK_BENCH_ARTICLES", 6) {
        kb_delays.extend(article_delays(&api, &bases, &admin, &customer, n).await);
    }

    let rounds = setting("HELPDESK_BENCH_ROUNDS", 3);
    let clients = setting("HELPDESK_BENCH_CLIENTS", 8);
    let tickets = setting("HELPDESK_BENCH_TICKETS", 25);
    let mut next_address = 0;
    let (mut one, mut three, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut unassigned_1, mut unassigned_3) = (0, 0);
    for round in 0..rounds {
        let order: [usize; 2] = if round % 2 == 0 { [1, 3] } else { [3, 1] };
        let mut rates = [0.0; 2];
        for instances in order {
            let intake = Intake {
                api: &api,
                admin: &admin,
                targets: &bases[..instances],
                clients,
                tickets,
            };
            let (rate, unassigned) = intake.run(&mut next_address).await;
            println!(
                "round {round}: {instances} instance(s): {rate:.1} tickets/s, {unassigned} unassigned"
            );
            if instances == 1 {
                one.push(rate);
                unassigned_1 += unassigned;
                rates[0] = rate;
            } else {
                three.push(rate);
                unassigned_3 += unassigned;
                rates[1] = rate;
            }
        }
        ratios.push(rates[1] / rates[0]);
    }
    let figures = json!({
        "backend": format!("{backend:?}"),
        "kb_delay_ms": kb_delays,
        "kb_delay_median_ms": median(&kb_delays),
        "intake_1_per_s": one,
        "intake_3_per_s": three,
        "intake_1_median_per_s": median(&one),
        "intake_3_median_per_s": median(&three),
        "ratio": ratios,
        "ratio_median": median(&ratios),
        "unassigned_1": unassigned_1,
        "unassigned_3": unassigned_3,
        "tickets_per_measurement": clients * tickets,
    });
    println!("figures {figures}");
    drop(cluster);
    db.drop_database().await;
}

/// Saves article `n` through instance `n % 3`; how long until each other instance's
/// search finds it (ms).
async fn article_delays(
    api: &Api,
    bases: &[String],
    admin: &Token,
    customer: &Token,
    n: usize,
) -> Vec<f64> {
    // Made-up words, so no seeded article competes with it.
    let word = format!("quorvex{n}");
    let from = n % bases.len();
    let id = api
        .create_article(
            &bases[from],
            admin,
            &format!("Pairing the {word} dock"),
            &format!(
                "To pair the {word} dock, hold its button for five seconds until the light \
                 blinks, then choose Devices and Pair dock in the app. The {word} dock pairs \
                 with one notebook at a time."
            ),
        )
        .await;
    let saved = Instant::now();
    let question = format!("How do I pair the {word} dock?");
    let others = (0..bases.len()).filter(|i| *i != from);
    join_all(others.map(|i| {
        let (base, id, question) = (&bases[i], &id, &question);
        async move {
            eventually(
                "the article found on another instance",
                Duration::from_secs(60),
                Duration::from_millis(50),
                async || {
                    if api.search(base, customer, question).await.contains(id) {
                        Ok(saved.elapsed().as_secs_f64() * 1000.0)
                    } else {
                        Err(String::new())
                    }
                },
            )
            .await
        }
    }))
    .await
}

/// One intake measurement.
struct Intake<'a> {
    api: &'a Api,
    admin: &'a Token,
    targets: &'a [String],
    clients: usize,
    tickets: usize,
}

impl Intake<'_> {
    /// Tickets per second over all clients, and how many were left unassigned.
    async fn run(&self, next_address: &mut u32) -> (f64, usize) {
        // Customers and addresses of their own, signed in before the clock starts.
        let mut callers = Vec::new();
        for _ in 0..self.clients {
            *next_address += 1;
            let n = *next_address;
            let address = IpAddr::V4(Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 1) as u8));
            let api = Api::from_address(address);
            let login = Login {
                email: format!("bench{n}@customers.example"),
                password: "a bench password".into(),
            };
            let body = json!({"email": login.email, "name": format!("Bench {n}"),
                "role": "customer", "password": login.password});
            self.api
                .post(&self.targets[0], "/users", self.admin, body, 201)
                .await;
            let token = api.login(&self.targets[0], &login).await;
            callers.push((api, token));
        }
        let started = Instant::now();
        let unassigned = join_all(
            callers
                .iter()
                .enumerate()
                .map(|(k, (api, token))| async move {
                    let mut unassigned = 0;
                    for i in 0..self.tickets {
                        let base = &self.targets[(k + i) % self.targets.len()];
                        let ticket = api
                            .open_ticket(base, token, &format!("Bench {k} {i}"))
                            .await;
                        if ticket["assignee"].is_null() {
                            unassigned += 1;
                        }
                    }
                    unassigned
                }),
        )
        .await
        .into_iter()
        .sum();
        let elapsed = started.elapsed().as_secs_f64();
        ((self.clients * self.tickets) as f64 / elapsed, unassigned)
    }
}
