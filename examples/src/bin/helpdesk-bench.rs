//! `helpdesk-bench`: measures helpdesk-rs and reports; it never fails because a machine
//! is slow. Each subcommand prints a table, or one JSON object on stdout with `--json`;
//! progress bars go to stderr.
//!
//! ```text
//! helpdesk-bench intake-sqlite [--n 2000]            # open_ticket vs raw sqlx inserts
//! helpdesk-bench intake-mongo  [--n 200]             # open_ticket vs the raw driver (MONGODB_URI)
//! helpdesk-bench intake-postgres [--n 2000]          # open_ticket vs raw sqlx (HELPDESK_POSTGRES_URL)
//! helpdesk-bench queue         [--size 1000000]      # agent queue, customer listing, analytics
//!                              [--store postgres]    # ... on PostgreSQL (HELPDESK_POSTGRES_URL)
//! helpdesk-bench http          [--clients 8]         # the JSON API over loopback: creates, queue
//! helpdesk-bench kb            [--size 100000]       # HNSW build, latency, recall@10 vs exact
//! helpdesk-bench embed         [--n 1024]            # MiniLM vs onnxruntime in Python
//! helpdesk-bench ai-turn       [--n 500]             # chat turn and draft with a mock model
//! helpdesk-bench email         [--messages 1000]     # mail in: in process and ingest-email
//! helpdesk-bench email-imap    [--messages 50]       # IMAP arrival to ticket (HELPDESK_IMAP_*)
//! ```
//!
//! Measured figures and the exact commands are kept in BENCHMARKS.md at the repository root.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use helpdesk_examples::bench::{
    self, BoxError, Step,
    ai_turn::AiTurnOptions,
    email::EmailOptions,
    email_imap::{EmailImapOptions, ImapServer},
    embed::EmbedOptions,
    http::HttpOptions,
    intake::IntakeOptions,
    kb::KbOptions,
    queue::QueueOptions,
};
use helpdesk_examples::error_chain;
use helpdesk_kb_search::HELPDESK_MODEL_DIR;
use helpdesk_kb_search::index::HnswOptions;
use helpdesk_store_sqlite::Durability;
use serde::Serialize;

#[derive(Parser)]
#[command(
    name = "helpdesk-bench",
    about = "Measure helpdesk-rs: intake, queues, vector search, embeddings, AI turns, e-mail"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Tickets through Helpdesk::open_ticket on SQLite (WAL) vs raw sqlx inserts of the
    /// same rows, one transaction per ticket.
    IntakeSqlite {
        #[command(flatten)]
        intake: IntakeArgs,
        /// Folder for the scratch databases (default: the system temp folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// The same on MongoDB against the raw driver.
    IntakeMongo {
        #[command(flatten)]
        intake: IntakeArgs,
        /// MongoDB connection string.
        #[arg(long, env = "MONGODB_URI")]
        uri: String,
        #[command(flatten)]
        common: Common,
    },
    /// The same on PostgreSQL against plain sqlx statements, on two fresh databases of the
    /// server (dropped at the end).
    IntakePostgres {
        #[command(flatten)]
        intake: IntakeArgs,
        /// A PostgreSQL server URL (any database on it; the run makes its own).
        #[arg(long, env = "HELPDESK_POSTGRES_URL")]
        url: String,
        #[command(flatten)]
        common: Common,
    },
    /// Agent queue, customer listing and analytics on a bulk-loaded SQLite (or PostgreSQL)
    /// store.
    Queue {
        /// The store.
        #[arg(long, value_enum, default_value = "sqlite")]
        store: QueueStoreArg,
        /// With `--store postgres`: a server URL (any database on it; the run makes its own
        /// and drops it at the end).
        #[arg(long, env = "HELPDESK_POSTGRES_URL")]
        url: Option<String>,
        /// Tickets to load.
        #[arg(long, default_value_t = 1_000_000)]
        size: usize,
        /// Tenants the tickets are spread over.
        #[arg(long, default_value_t = 100)]
        tenants: usize,
        /// Customers per tenant.
        #[arg(long, default_value_t = 200)]
        customers: usize,
        /// Agents per tenant.
        #[arg(long, default_value_t = 8)]
        agents: usize,
        /// Measured calls of each listing.
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        /// Measured analytics calls.
        #[arg(long, default_value_t = 20)]
        analytics_runs: usize,
        /// Rows per loader transaction (SQLite; PostgreSQL loads a tenant per statement).
        #[arg(long, default_value_t = 50_000)]
        batch: usize,
        /// Folder for the scratch database (SQLite; default: the system temp folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// The JSON API on loopback with N keep-alive clients: ticket creates per second and
    /// p50/p99, and the agent queue page p50/p99 on a tenant with many tickets.
    Http {
        /// Tickets in the measured tenant.
        #[arg(long, default_value_t = 100_000)]
        size: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Measured requests per client, of each kind.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Folder for the scratch database (default: the system temp folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// The HNSW vector index of kb-search: build time, latency, recall@10 vs exact search.
    Kb {
        /// Indexed vectors (chunks).
        #[arg(long, default_value_t = 100_000)]
        size: usize,
        /// Vector length.
        #[arg(long, default_value_t = 384)]
        dims: usize,
        /// Topic clusters.
        #[arg(long, default_value_t = 1000)]
        clusters: usize,
        /// Directions of the spread inside a cluster.
        #[arg(long, default_value_t = 12)]
        local_dims: usize,
        /// Timed HNSW queries.
        #[arg(long, default_value_t = 2000)]
        queries: usize,
        /// Queries checked against exact search.
        #[arg(long, default_value_t = 300)]
        recall_queries: usize,
        /// Generator seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// HNSW neighbours per node (M); the knowledge base's default when absent.
        #[arg(long)]
        m: Option<usize>,
        /// HNSW candidate list while building; the knowledge base's default when absent.
        #[arg(long)]
        ef_construction: Option<usize>,
        /// HNSW candidate list while searching; the knowledge base's default when absent.
        #[arg(long)]
        ef_search: Option<usize>,
        #[command(flatten)]
        common: Common,
    },
    /// MiniLM sentences per second vs onnxruntime in Python on the same model.
    Embed {
        /// Sentences per pass.
        #[arg(long, default_value_t = 1024)]
        n: usize,
        /// Timed passes per side.
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// Batch size.
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// ONNX Runtime intra-op threads (default: cores, at most 2, as the embedder).
        #[arg(long)]
        threads: Option<usize>,
        /// Model folder.
        #[arg(long, env = HELPDESK_MODEL_DIR)]
        model_dir: PathBuf,
        /// Python with onnxruntime, tokenizers and numpy (default:
        /// ~/.cache/helpdesk/venv/bin/python).
        #[arg(long)]
        python: Option<PathBuf>,
        /// The Python side (default: scripts/bench_embed_python.py of this repository).
        #[arg(long)]
        script: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// The chatbot turn and the suggested reply with a zero-latency mock model.
    AiTurn {
        /// Timed chat turns and timed drafts.
        #[arg(long, default_value_t = 500)]
        n: usize,
        /// Customer turns per chat session.
        #[arg(long, default_value_t = 5)]
        turns: usize,
        /// Untimed calls of each kind first.
        #[arg(long, default_value_t = 20)]
        warmup: usize,
        /// The store.
        #[arg(long, value_enum, default_value = "sqlite")]
        store: StoreArg,
        /// SQLite durability: `power-loss` (synchronous FULL, the store's default) or
        /// `process-crash` (NORMAL).
        #[arg(long, default_value = "power-loss")]
        durability: Durability,
        /// Folder for the scratch files (default: the system temp folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Inbound mail built from the e-mail corpus through MailIngest on SQLite (WAL):
    /// messages/s, latency, outcomes, store cost per message; then the first `--pipe`
    /// messages through `helpdesk ingest-email`, one process each.
    Email {
        /// Messages ingested in process.
        #[arg(long, default_value_t = 1000)]
        messages: usize,
        /// Of those, the first ones also piped through `helpdesk ingest-email` (0: skip).
        #[arg(long, default_value_t = 200)]
        pipe: usize,
        /// Every n-th message is a redelivery of an earlier one (0: none).
        #[arg(long, default_value_t = 50)]
        duplicate_every: usize,
        /// The `helpdesk` binary (default: the one beside this binary).
        #[arg(long)]
        helpdesk_bin: Option<PathBuf>,
        #[command(flatten)]
        mail: MailArgs,
        /// Folder for the scratch files (default: the system temp folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// IMAP arrival to ticket: the IMAP poller in IDLE on a real server
    /// (`eval "$(scripts/start-dovecot.sh)"`), one APPEND at a time, the store read every
    /// few ms; then single polls without IDLE.
    EmailImap {
        /// Messages timed with the poller in IDLE.
        #[arg(long, default_value_t = 50)]
        messages: usize,
        /// Polls timed without IDLE (one message each).
        #[arg(long, default_value_t = 10)]
        polls: usize,
        /// Store read interval while waiting, in milliseconds.
        #[arg(long, default_value_t = 2)]
        check_ms: u64,
        /// Longest wait for one message, in seconds (more than the poller's 60 s interval).
        #[arg(long, default_value_t = 90)]
        timeout: u64,
        /// Pause after a message's ticket before the next APPEND, in milliseconds (the
        /// poller moves the message and goes back to IDLE meanwhile).
        #[arg(long, default_value_t = 300)]
        gap_ms: u64,
        /// IMAP host (loopback).
        #[arg(long, env = "HELPDESK_IMAP_HOST")]
        host: String,
        /// IMAP port.
        #[arg(long, env = "HELPDESK_IMAP_PORT", default_value_t = 14143)]
        port: u16,
        /// IMAP user.
        #[arg(long, env = "HELPDESK_IMAP_USER", default_value = "helpdesk")]
        user: String,
        /// IMAP password.
        #[arg(long, env = "HELPDESK_IMAP_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        mail: MailArgs,
        /// Folder for the scratch files (default: the system temp folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(clap::Args)]
struct MailArgs {
    /// Distinct senders of the person-written messages.
    #[arg(long, default_value_t = 50)]
    senders: usize,
    /// Percent of person-written messages that answer the sender's earlier mail.
    #[arg(long, default_value_t = 35)]
    reply_percent: usize,
    /// The corpus folder (default: mail/tests/corpus of this repository).
    #[arg(long)]
    corpus: Option<PathBuf>,
}

impl MailArgs {
    fn options(&self, messages: usize, pipe: usize, duplicate_every: usize) -> EmailOptions {
        EmailOptions {
            messages,
            pipe,
            senders: self.senders.max(1),
            duplicate_every,
            reply_percent: self.reply_percent.min(100),
            corpus: self.corpus.clone().unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mail/tests/corpus")
            }),
            // Beside this binary, as cargo builds them.
            helpdesk_bin: std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(|d| d.join("helpdesk")))
                .unwrap_or_else(|| PathBuf::from("helpdesk")),
        }
    }
}

#[derive(clap::Args)]
struct IntakeArgs {
    /// Tickets measured on each side.
    #[arg(long, default_value_t = 2000)]
    n: usize,
    /// Alternating rounds of helpdesk and baseline batches.
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// Untimed tickets per side first.
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// Customers the tickets are spread over.
    #[arg(long, default_value_t = 20)]
    customers: usize,
    /// SQLite durability of both sides (`intake-sqlite` only): `power-loss` (synchronous
    /// FULL, the store's default) or `process-crash` (NORMAL).
    #[arg(long, default_value = "power-loss")]
    durability: Durability,
}

impl IntakeArgs {
    fn options(&self) -> IntakeOptions {
        IntakeOptions {
            n: self.n.max(1),
            rounds: self.rounds.max(1),
            warmup: self.warmup,
            customers: self.customers.max(1),
            durability: self.durability,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum QueueStoreArg {
    Sqlite,
    Postgres,
}

#[derive(Clone, Copy, ValueEnum)]
enum StoreArg {
    Sqlite,
    Memory,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The outermost edge: print the whole source chain on one line.
            let chain: Vec<String> = error_chain(&*e).map(|s| s.to_string()).collect();
            eprintln!("helpdesk-bench: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}

/// The knowledge base's HNSW defaults with any of the three overridden.
fn hnsw_options(
    m: Option<usize>,
    ef_construction: Option<usize>,
    ef_search: Option<usize>,
) -> HnswOptions {
    let default = HnswOptions::default();
    HnswOptions {
        max_connections: m.unwrap_or(default.max_connections),
        ef_construction: ef_construction.unwrap_or(default.ef_construction),
        ef_search: ef_search.unwrap_or(default.ef_search),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .step("starting the tokio runtime")
}

/// Prints `report` as JSON or as its table.
fn emit<R: Serialize>(report: &R, json: bool, table: impl FnOnce(&R)) -> Result<(), BoxError> {
    if json {
        println!(
            "{}",
            serde_json::to_string(report).step("encoding the report")?
        );
    } else {
        table(report);
    }
    Ok(())
}

fn run(command: Command) -> Result<(), BoxError> {
    match command {
        Command::IntakeSqlite {
            intake,
            dir,
            common,
        } => {
            let report =
                runtime()?.block_on(bench::intake::sqlite(&intake.options(), dir.as_deref()))?;
            emit(&report, common.json, |r| r.print())
        }
        Command::IntakeMongo {
            intake,
            uri,
            common,
        } => {
            let report = runtime()?.block_on(bench::intake::mongo(&intake.options(), &uri))?;
            emit(&report, common.json, |r| r.print())
        }
        Command::IntakePostgres {
            intake,
            url,
            common,
        } => {
            let report = runtime()?.block_on(bench::postgres::intake(&intake.options(), &url))?;
            emit(&report, common.json, |r| r.print())
        }
        Command::Queue {
            store,
            url,
            size,
            tenants,
            customers,
            agents,
            queries,
            analytics_runs,
            batch,
            dir,
            common,
        } => {
            let options = QueueOptions {
                size,
                tenants: tenants.max(1),
                customers: customers.max(1),
                agents: agents.max(1),
                queries: queries.max(1),
                analytics_runs: analytics_runs.max(1),
                batch: batch.max(1),
            };
            let report = match store {
                QueueStoreArg::Sqlite => {
                    runtime()?.block_on(bench::queue::run(&options, dir.as_deref()))?
                }
                QueueStoreArg::Postgres => {
                    let url = url.ok_or(
                        "--store postgres needs --url or HELPDESK_POSTGRES_URL (see \
                         scripts/start-postgres.sh)",
                    )?;
                    runtime()?.block_on(bench::postgres::queue(&options, &url))?
                }
            };
            emit(&report, common.json, |r| r.print())
        }
        Command::Http {
            size,
            clients,
            requests,
            dir,
            common,
        } => {
            let options = HttpOptions {
                size,
                clients: clients.max(1),
                requests: requests.max(1),
            };
            let report = runtime()?.block_on(bench::http::run(&options, dir.as_deref()))?;
            emit(&report, common.json, |r| r.print())
        }
        Command::Kb {
            size,
            dims,
            clusters,
            local_dims,
            queries,
            recall_queries,
            seed,
            m,
            ef_construction,
            ef_search,
            common,
        } => {
            if size < 10 {
                return Err("--size must be at least 10 (recall@10 needs ten neighbours)".into());
            }
            let options = KbOptions {
                size,
                dims: dims.max(1),
                clusters: clusters.max(1),
                local_dims: local_dims.max(1),
                queries: queries.max(1),
                recall_queries: recall_queries.max(1),
                seed,
                hnsw: hnsw_options(m, ef_construction, ef_search),
            };
            // CPU-bound throughout and no async runtime: runs on the main thread.
            let report = bench::kb::run(&options)?;
            emit(&report, common.json, |r| r.print())
        }
        Command::Embed {
            n,
            reps,
            batch,
            threads,
            model_dir,
            python,
            script,
            common,
        } => {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            let python = match python {
                Some(p) => p,
                None => std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .ok_or("HOME is not set: pass --python")?
                    .join(".cache/helpdesk/venv/bin/python"),
            };
            let script = script.unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/bench_embed_python.py")
            });
            let options = EmbedOptions {
                n: n.max(1),
                reps: reps.max(1),
                batch: batch.max(1),
                threads: threads.unwrap_or(cores.min(2)).max(1),
                model_dir,
                python,
                script,
            };
            // ONNX inference and a child process, no async runtime: runs on the main thread.
            let report = bench::embed::run(&options)?;
            emit(&report, common.json, |r| r.print())
        }
        Command::AiTurn {
            n,
            turns,
            warmup,
            store,
            durability,
            dir,
            common,
        } => {
            let options = AiTurnOptions {
                n: n.max(1),
                turns: turns.max(1),
                warmup,
                store: match store {
                    StoreArg::Sqlite => bench::ai_turn::StoreKind::Sqlite,
                    StoreArg::Memory => bench::ai_turn::StoreKind::Memory,
                },
                durability,
            };
            let report = runtime()?.block_on(bench::ai_turn::run(&options, dir.as_deref()))?;
            emit(&report, common.json, |r| r.print())
        }
        Command::Email {
            messages,
            pipe,
            duplicate_every,
            helpdesk_bin,
            mail,
            dir,
            common,
        } => {
            let mut options = mail.options(messages.max(1), pipe, duplicate_every);
            if let Some(bin) = helpdesk_bin {
                options.helpdesk_bin = bin;
            }
            let report = runtime()?.block_on(bench::email::run(&options, dir.as_deref()))?;
            emit(&report, common.json, |r| r.print())
        }
        Command::EmailImap {
            messages,
            polls,
            check_ms,
            timeout,
            gap_ms,
            host,
            port,
            user,
            password,
            mail,
            dir,
            common,
        } => {
            let options = EmailImapOptions {
                messages: messages.max(1),
                polls,
                check_ms,
                timeout_s: timeout,
                gap_ms,
                mail: mail.options(0, 0, 0),
            };
            let server = ImapServer {
                host,
                port,
                user,
                password,
            };
            let report =
                runtime()?.block_on(bench::email_imap::run(&options, &server, dir.as_deref()))?;
            emit(&report, common.json, |r| r.print())
        }
    }
}
