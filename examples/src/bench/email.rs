//! `email`: inbound mail through [`MailIngest`] into [`Helpdesk::receive_email`] on SQLite,
//! in process (messages per second, latency, outcomes, store cost) and through the
//! `helpdesk ingest-email` binary, one process per message, as an MTA delivers.
//!
//! The messages are built from the e-mail corpus (`mail/tests/corpus/*.eml`), cycling
//! through its files. A shape a person writes (its expected decision opens a ticket or
//! threads a reply) gets a unique Message-ID and a sender from a pool of customers, and
//! some of them answer their own earlier mail (`In-Reply-To` and `References` naming it),
//! so they land on its ticket; the other shapes (auto-replies, bounces, lists, malformed
//! or oversized mail) are sent byte for byte and go to the quarantine, which is counted.
//! Every `duplicate_every`-th message is a byte-identical redelivery of an earlier one (an
//! MTA retry). The same sequence (a fixed seed) is used by every run and by the pipe.
//!
//! Store cost is counted by core's [`CountingStore`] around the SQLite store, per message;
//! its bookkeeping (a task yield per call) is inside the timed in-process figures.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use helpdesk_core::blob::FsBlobStore;
use helpdesk_core::domain::{Actor, Role, Tenant, TenantSettings};
use helpdesk_core::service::{EmailDisposition, NewTenant, NewUser};
use helpdesk_core::testkit::CountingStore;
use helpdesk_core::{DynStore, Helpdesk};
use helpdesk_mail::{IngestOutcome, MailIngest};
use helpdesk_store_sqlite::{Durability, SqliteStore};
use serde::Serialize;

use super::{BoxError, PROFILE, Rng, Samples, ScratchDir, Step, bar, ms, open_sqlite, print_table};

/// The tenant's support address, as the corpus is written against.
pub const SUPPORT_ADDRESS: &str = "support@acme.example";
/// The tenant's slug.
pub const TENANT_SLUG: &str = "acme";

/// Options of an `email` run.
#[derive(Debug, Clone)]
pub struct EmailOptions {
    /// Messages ingested in process.
    pub messages: usize,
    /// Of those, the first ones also sent through `helpdesk ingest-email` (0: skipped).
    pub pipe: usize,
    /// Distinct senders.
    pub senders: usize,
    /// Every n-th message is a redelivery of an earlier one (0: none).
    pub duplicate_every: usize,
    /// The share of person mails that answer the sender's earlier mail, in percent.
    pub reply_percent: usize,
    /// The corpus folder.
    pub corpus: PathBuf,
    /// The `helpdesk` binary for the pipe.
    pub helpdesk_bin: PathBuf,
}

/// What store calls cost per message, on average.
#[derive(Debug, Clone, Serialize)]
pub struct CostPerMessage {
    /// Messages with this outcome.
    pub messages: usize,
    /// Round trips of latency per message.
    pub round_trips: f64,
    /// Store calls per message.
    pub calls: f64,
    /// Writing calls per message.
    pub commits: f64,
}

/// The result of an `email` run.
#[derive(Debug, Clone, Serialize)]
pub struct EmailReport {
    /// The build profile of the binary.
    pub profile: &'static str,
    /// Messages ingested in process.
    pub messages: usize,
    /// Corpus files they were built from.
    pub corpus_files: usize,
    /// In-process messages per second (all messages over the whole loop).
    pub per_s: f64,
    /// Median latency of one `MailIngest::ingest`.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Outcomes: `opened`, `replied`, `follow_up`, `from_other_sender`, `duplicate`,
    /// `quarantined:<reason>`.
    pub outcomes: BTreeMap<String, usize>,
    /// Store round trips per message, all messages.
    pub round_trips_per_message: f64,
    /// Store calls per message, all messages.
    pub calls_per_message: f64,
    /// Writing store calls per message, all messages.
    pub commits_per_message: f64,
    /// The same per outcome.
    pub cost_by_outcome: BTreeMap<String, CostPerMessage>,
    /// Messages sent through `helpdesk ingest-email` (one process each).
    pub pipe_messages: usize,
    /// Their rate, messages per second (0 when skipped).
    pub pipe_per_s: f64,
    /// Median wall time of one process (spawn to exit).
    pub pipe_p50_ms: f64,
    /// 95th percentile.
    pub pipe_p95_ms: f64,
    /// The outcomes the processes printed.
    pub pipe_outcomes: BTreeMap<String, usize>,
}

impl EmailReport {
    /// Prints the report as a table.
    pub fn print(&self) {
        let outcomes = |o: &BTreeMap<String, usize>| {
            o.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut rows = vec![
            (
                "in process",
                format!(
                    "{:.1} messages/s  (p50 {}, p95 {}, p99 {})",
                    self.per_s,
                    ms(self.p50_ms),
                    ms(self.p95_ms),
                    ms(self.p99_ms)
                ),
            ),
            ("outcomes", outcomes(&self.outcomes)),
            (
                "store per message",
                format!(
                    "{:.2} round trips, {:.2} calls, {:.2} commits",
                    self.round_trips_per_message, self.calls_per_message, self.commits_per_message
                ),
            ),
        ];
        for (kind, c) in &self.cost_by_outcome {
            rows.push((
                "",
                format!(
                    "{kind} ({}): {:.2} round trips, {:.2} calls, {:.2} commits",
                    c.messages, c.round_trips, c.calls, c.commits
                ),
            ));
        }
        if self.pipe_messages > 0 {
            rows.push((
                "ingest-email pipe",
                format!(
                    "{:.1} messages/s  (p50 {}, p95 {} per process; {} messages)",
                    self.pipe_per_s,
                    ms(self.pipe_p50_ms),
                    ms(self.pipe_p95_ms),
                    self.pipe_messages
                ),
            ));
            rows.push(("pipe outcomes", outcomes(&self.pipe_outcomes)));
        }
        print_table(
            &format!(
                "email ({} messages from {} corpus files, SQLite WAL synchronous FULL, {} build)",
                self.messages, self.corpus_files, self.profile
            ),
            &rows,
        );
    }
}

/// One corpus file: its bytes and whether a person wrote it (rewritten per copy).
#[derive(Debug, Clone)]
struct CorpusFile {
    raw: Vec<u8>,
    person: bool,
}

/// Reads `dir/*.eml` (sorted by name) with the expected decision of each `.json`.
fn read_corpus(dir: &Path) -> Result<Vec<CorpusFile>, BoxError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .step(format!("reading the corpus folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let raw = std::fs::read(&path).step(format!("reading {}", path.display()))?;
        let expected = path.with_extension("json");
        let text =
            std::fs::read_to_string(&expected).step(format!("reading {}", expected.display()))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).step(format!("parsing {}", expected.display()))?;
        let decision = json.get("decision").and_then(|d| d.as_str()).unwrap_or("");
        let person = json.get("error").is_none()
            && ["new_ticket", "reply", "follow_up"]
                .iter()
                .any(|d| decision.starts_with(d));
        files.push(CorpusFile { raw, person });
    }
    if files.is_empty() {
        return Err(format!("no .eml files in {}", dir.display()).into());
    }
    Ok(files)
}

/// Splits a message into its header block (with its last line break) and the rest.
fn split_head(raw: &[u8]) -> (&[u8], &[u8]) {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 2);
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 1);
    let at = match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(raw.len()),
    };
    raw.split_at(at)
}

/// `raw` with the header fields named in `drop` (and their folded lines) removed and
/// `add` (whole lines without line breaks) put in front.
fn rewrite_headers(raw: &[u8], drop: &[&str], add: &[String]) -> Vec<u8> {
    let (head, body) = split_head(raw);
    let eol: &[u8] = if head.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut out = Vec::with_capacity(raw.len() + 256);
    for line in add {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(eol);
    }
    let mut dropping = false;
    for line in head.split_inclusive(|&b| b == b'\n') {
        let folded = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !folded {
            let name = line.split(|&b| b == b':').next().unwrap_or_default();
            dropping = drop
                .iter()
                .any(|d| name.trim_ascii().eq_ignore_ascii_case(d.as_bytes()));
        }
        if !dropping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(body);
    out
}

/// The messages of a run, in order (the same for every run of the same options).
fn build_messages(corpus: &[CorpusFile], options: &EmailOptions, n: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(19);
    let senders = options.senders.max(1);
    // The Message-IDs each sender wrote so far: what their replies answer.
    let mut written: Vec<Vec<String>> = vec![Vec::new(); senders];
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(n);
    for i in 0..n {
        if options.duplicate_every > 0 && i > 0 && (i + 1) % options.duplicate_every == 0 {
            let earlier = out[rng.below(i)].clone();
            out.push(earlier);
            continue;
        }
        let file = &corpus[i % corpus.len()];
        if !file.person {
            out.push(file.raw.clone());
            continue;
        }
        let who = rng.below(senders);
        let id = format!("bench-{i}.{who}@mail.bench.example");
        let mut add = vec![
            format!("From: Customer {who} <customer{who:02}@mail.bench.example>"),
            format!("Message-ID: <{id}>"),
        ];
        if !written[who].is_empty() && rng.below(100) < options.reply_percent {
            let answered = &written[who][rng.below(written[who].len())];
            add.push(format!("In-Reply-To: <{answered}>"));
            add.push(format!("References: <{answered}>"));
        }
        written[who].push(id);
        out.push(rewrite_headers(
            &file.raw,
            &[
                "From",
                "Sender",
                "Reply-To",
                "Message-ID",
                "In-Reply-To",
                "References",
            ],
            &add,
        ));
    }
    out
}

/// The outcome's name in the report.
fn outcome_key(outcome: &IngestOutcome) -> String {
    match outcome {
        IngestOutcome::Delivered { disposition, .. } => match disposition {
            EmailDisposition::Opened => "opened",
            EmailDisposition::Replied => "replied",
            EmailDisposition::FollowUp { .. } => "follow_up",
            EmailDisposition::FromOtherSender => "from_other_sender",
            EmailDisposition::Duplicate => "duplicate",
            _ => "other",
        }
        .to_string(),
        IngestOutcome::Quarantined { reason, .. } => format!("quarantined:{}", reason.name()),
        _ => "other".to_string(),
    }
}

/// The same name from the line `helpdesk ingest-email` prints (the CLI's `describe`).
fn pipe_outcome_key(line: &str) -> String {
    let inner = line
        .rsplit_once('(')
        .map_or(line, |(_, rest)| rest.trim_end_matches(')'));
    if line.starts_with("quarantined") {
        return format!("quarantined:{inner}");
    }
    let disposition = line
        .split_once('(')
        .map_or("", |(_, rest)| rest)
        .split([',', ')', ' ', '{'])
        .next()
        .unwrap_or("");
    match disposition {
        "Opened" => "opened",
        "Replied" => "replied",
        "FollowUp" => "follow_up",
        "FromOtherSender" => "from_other_sender",
        "Duplicate" => "duplicate",
        _ => "other",
    }
    .to_string()
}

/// Registers the tenant mail arrives for: the support address, a sender limit that never
/// holds the run's customers, and three agents so that new tickets are routed.
pub(crate) async fn register_tenant(helpdesk: &Helpdesk) -> Result<Tenant, BoxError> {
    let mut settings = TenantSettings::default();
    settings.email.address = Some(SUPPORT_ADDRESS.into());
    settings.email.display_name = "Acme Support".into();
    settings.email.max_new_tickets_per_sender_per_hour =
        *helpdesk_core::domain::EmailSettings::NEW_TICKETS_PER_HOUR.end();
    let (tenant, admin) = helpdesk
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: TENANT_SLUG.into(),
            admin: NewUser::new("admin@acme.example", "Ada Admin", Role::Admin),
            settings: Some(settings),
        })
        .await
        .step("registering the tenant")?;
    let admin = Actor::for_user(&admin);
    for (i, skill) in ["billing", "technical", "account"].iter().enumerate() {
        helpdesk
            .add_user(
                &admin,
                NewUser::new(&format!("agent{i}@acme.example"), "Agent", Role::Agent)
                    .with_skills(&[skill]),
            )
            .await
            .step("adding an agent")?;
    }
    Ok(tenant)
}

/// A helpdesk on `store` with a filesystem blob store under `dir`.
pub(crate) fn helpdesk_on(store: DynStore, dir: &Path) -> Result<Helpdesk, BoxError> {
    let blobs = dir.join("blobs");
    std::fs::create_dir_all(&blobs).step(format!("creating {}", blobs.display()))?;
    Helpdesk::builder(store)
        .blob_store(Arc::new(FsBlobStore::new(blobs)))
        .build()
        .step("building the helpdesk")
}

/// The in-process side: every message through `MailIngest::ingest`, timed and counted.
async fn in_process(
    messages: &[Vec<u8>],
    dir: &Path,
    report: &mut EmailReport,
) -> Result<(), BoxError> {
    let sqlite = open_sqlite(&dir.join("helpdesk.db"), Durability::PowerLoss).await?;
    let counting = Arc::new(CountingStore::new(Arc::new(sqlite.clone())));
    let helpdesk = helpdesk_on(counting.clone(), dir)?;
    let tenant = register_tenant(&helpdesk).await?;
    let ingest = MailIngest::new(helpdesk);
    counting.take();
    let mut latency = Samples::with_capacity(messages.len());
    let mut costs: BTreeMap<String, (usize, u64, u64, u64)> = BTreeMap::new();
    let progress = bar(messages.len() as u64, "email");
    let started = Instant::now();
    for (i, raw) in messages.iter().enumerate() {
        let t = Instant::now();
        let outcome = ingest
            .ingest(tenant.id, raw.clone(), "bench")
            .await
            .step(format!("ingesting message #{i}"))?;
        latency.push(t.elapsed());
        let cost = counting.take();
        let entry = costs.entry(outcome_key(&outcome)).or_default();
        entry.0 += 1;
        entry.1 += cost.round_trips;
        entry.2 += cost.calls;
        entry.3 += cost.commits;
        progress.inc(1);
    }
    let elapsed = started.elapsed();
    progress.finish_and_clear();
    sqlite.close().await;
    let n = messages.len().max(1) as f64;
    let total = costs
        .values()
        .fold((0, 0, 0), |a, c| (a.0 + c.1, a.1 + c.2, a.2 + c.3));
    report.per_s = messages.len() as f64 / elapsed.as_secs_f64().max(1e-9);
    report.p50_ms = latency.median();
    report.p95_ms = latency.percentile(0.95);
    report.p99_ms = latency.percentile(0.99);
    report.round_trips_per_message = total.0 as f64 / n;
    report.calls_per_message = total.1 as f64 / n;
    report.commits_per_message = total.2 as f64 / n;
    for (kind, (count, trips, calls, commits)) in costs {
        let c = count.max(1) as f64;
        report.outcomes.insert(kind.clone(), count);
        report.cost_by_outcome.insert(
            kind,
            CostPerMessage {
                messages: count,
                round_trips: trips as f64 / c,
                calls: calls as f64 / c,
                commits: commits as f64 / c,
            },
        );
    }
    Ok(())
}

/// The pipe: a data folder the CLI opens (its SQLite file made and its tenant registered
/// here first), then one `helpdesk ingest-email` process per message.
async fn pipe(
    messages: &[Vec<u8>],
    dir: &Path,
    helpdesk_bin: &Path,
    report: &mut EmailReport,
) -> Result<(), BoxError> {
    if !helpdesk_bin.is_file() {
        return Err(format!(
            "no helpdesk binary at {} (build it: cargo build --release -p helpdesk-examples \
             --bin helpdesk; or pass --helpdesk-bin, or --pipe 0)",
            helpdesk_bin.display()
        )
        .into());
    }
    let data = dir.join("data");
    std::fs::create_dir_all(&data).step(format!("creating {}", data.display()))?;
    let sqlite = SqliteStore::open(data.join("helpdesk.db"))
        .await
        .step("creating the pipe's database")?;
    register_tenant(&helpdesk_on(Arc::new(sqlite.clone()), &data)?).await?;
    sqlite.close().await;
    let mut latency = Samples::with_capacity(messages.len());
    let progress = bar(messages.len() as u64, "ingest-email");
    let started = Instant::now();
    for (i, raw) in messages.iter().enumerate() {
        let t = Instant::now();
        let mut child = Command::new(helpdesk_bin)
            .arg("--data-dir")
            .arg(&data)
            .args(["ingest-email", "--tenant", TENANT_SLUG])
            // The CLI's defaults: SQLite under the data folder, no model, its own key file.
            .env_remove("MONGODB_URI")
            .env_remove("DATABASE_URL")
            .env_remove("GEMINI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("OPENAI_API_KEY")
            .env_remove("MAIL_TOKEN_KEY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .step(format!("starting {}", helpdesk_bin.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(raw)
                .step(format!("writing message #{i} to ingest-email"))?;
        }
        let out = child
            .wait_with_output()
            .step(format!("waiting for ingest-email of message #{i}"))?;
        latency.push(t.elapsed());
        if !out.status.success() {
            return Err(format!(
                "ingest-email of message #{i} exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        let line = String::from_utf8_lossy(&out.stdout);
        *report
            .pipe_outcomes
            .entry(pipe_outcome_key(line.trim()))
            .or_default() += 1;
        progress.inc(1);
    }
    let elapsed = started.elapsed();
    progress.finish_and_clear();
    report.pipe_messages = messages.len();
    report.pipe_per_s = messages.len() as f64 / elapsed.as_secs_f64().max(1e-9);
    report.pipe_p50_ms = latency.median();
    report.pipe_p95_ms = latency.percentile(0.95);
    Ok(())
}

/// `email`: both sides in a scratch folder under `dir` (the system temp folder by default).
pub async fn run(options: &EmailOptions, dir: Option<&Path>) -> Result<EmailReport, BoxError> {
    let corpus = read_corpus(&options.corpus)?;
    let messages = build_messages(&corpus, options, options.messages.max(1));
    let mut report = EmailReport {
        profile: PROFILE,
        messages: messages.len(),
        corpus_files: corpus.len(),
        per_s: 0.0,
        p50_ms: 0.0,
        p95_ms: 0.0,
        p99_ms: 0.0,
        outcomes: BTreeMap::new(),
        round_trips_per_message: 0.0,
        calls_per_message: 0.0,
        commits_per_message: 0.0,
        cost_by_outcome: BTreeMap::new(),
        pipe_messages: 0,
        pipe_per_s: 0.0,
        pipe_p50_ms: 0.0,
        pipe_p95_ms: 0.0,
        pipe_outcomes: BTreeMap::new(),
    };
    let scratch = ScratchDir::new(dir, "email")?;
    let in_dir = scratch.path().join("in-process");
    std::fs::create_dir_all(&in_dir).step(format!("creating {}", in_dir.display()))?;
    in_process(&messages, &in_dir, &mut report).await?;
    let piped = options.pipe.min(messages.len());
    if piped > 0 {
        pipe(
            &messages[..piped],
            &scratch.path().join("pipe"),
            &options.helpdesk_bin,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

/// Person-shaped messages for the IMAP run: the same generator, automatic shapes left out.
pub(crate) fn person_messages(
    options: &EmailOptions,
    n: usize,
) -> Result<Vec<(String, Vec<u8>)>, BoxError> {
    let corpus: Vec<CorpusFile> = read_corpus(&options.corpus)?
        .into_iter()
        .filter(|f| f.person)
        .collect();
    if corpus.is_empty() {
        return Err("the corpus has no person-written shapes".into());
    }
    let options = EmailOptions {
        duplicate_every: 0,
        ..options.clone()
    };
    Ok(build_messages(&corpus, &options, n)
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let id = raw
                .split(|&b| b == b'\n')
                .find_map(|l| {
                    let l = std::str::from_utf8(l).ok()?;
                    l.strip_prefix("Message-ID: <")
                        .map(|r| r.trim_end().trim_end_matches('>').to_string())
                })
                .unwrap_or_else(|| format!("missing-{i}"));
            (id, raw)
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_replaced_with_their_folded_lines_and_the_body_kept() {
        let raw = b"From: a@b\r\nReferences: <x>\r\n <y>\r\nSubject: Hi\r\n\r\nFrom: body\r\n";
        let out = rewrite_headers(raw, &["from", "References"], &["From: c@d".into()]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "From: c@d\r\nSubject: Hi\r\n\r\nFrom: body\r\n"
        );
    }

    #[test]
    fn pipe_lines_name_the_same_outcomes() {
        assert_eq!(pipe_outcome_key("delivered to #3 (Opened)"), "opened");
        assert_eq!(
            pipe_outcome_key("delivered to #3 (Replied, matched by MessageId)"),
            "replied"
        );
        assert_eq!(
            pipe_outcome_key("delivered to #4 (FollowUp { of: 01 })"),
            "follow_up"
        );
        assert_eq!(
            pipe_outcome_key("quarantined 0190 (ignored)"),
            "quarantined:ignored"
        );
    }
}
