//! The benchmarks behind `helpdesk-bench`.
//!
//! A benchmark here is a program that measures and reports; it never fails because a
//! machine is slow. Every figure is measured in the run that reports it: latencies are
//! medians and nearest-rank percentiles of sorted samples taken after a warm-up, and every
//! comparison (helpdesk against a raw-driver baseline, HNSW against exact search, Rust
//! against Python) is measured side by side in the same process run.
//!
//! - [`intake`]: `Helpdesk::open_ticket` against raw inserts of the same rows (SQLite, MongoDB;
//!   PostgreSQL in [`postgres`]).
//! - [`queue`]: agent queue, customer listing and analytics on a store with many tickets
//!   (SQLite; PostgreSQL in [`postgres`]).
//! - [`http`]: the JSON API over loopback with concurrent keep-alive clients.
//! - [`kb`]: the kb-search HNSW index: build time, latency and recall@10 against exact search.
//! - [`embed`]: MiniLM sentences per second against onnxruntime in Python.
//! - [`ai_turn`]: the chatbot turn and suggested reply with a zero-latency mock model.
//! - [`email`]: inbound mail from the corpus through `MailIngest` on SQLite, in process and
//!   through `helpdesk ingest-email`; [`email_imap`]: IMAP arrival to ticket on Dovecot.

pub mod ai_turn;
pub mod email;
pub mod email_imap;
pub mod embed;
pub mod http;
pub mod intake;
pub mod kb;
pub mod postgres;
pub mod queue;
mod queue_load;
mod rows;
mod stats;

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use helpdesk_store_sqlite::{Durability, SqliteConnectOptions, SqliteStore};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use stats::Samples;

/// The error type of the benchmarks: any error, with the step that failed in front of it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An error with the step that failed; the cause is its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct StepError {
    what: String,
    #[source]
    source: BoxError,
}

/// Adds the failed step to an error (`.step("opening the database")?`).
pub trait Step<T> {
    /// Wraps the error with `what`.
    fn step(self, what: impl Display) -> Result<T, BoxError>;
}

impl<T, E: Into<BoxError>> Step<T> for Result<T, E> {
    fn step(self, what: impl Display) -> Result<T, BoxError> {
        self.map_err(|e| {
            Box::new(StepError {
                what: what.to_string(),
                source: e.into(),
            }) as BoxError
        })
    }
}

/// The build profile of this binary (`release` or `debug`), reported with every result.
pub const PROFILE: &str = if cfg!(debug_assertions) {
    "debug"
} else {
    "release"
};

/// Opens (creating) a SQLite store file with the store's own pragmas and `durability`.
pub(crate) async fn open_sqlite(
    path: &Path,
    durability: Durability,
) -> Result<SqliteStore, BoxError> {
    SqliteStore::connect_with_durability(SqliteConnectOptions::new().filename(path), durability)
        .await
        .step(format!("opening {}", path.display()))
}

/// A progress bar on stderr for `len` steps (hidden when stderr is not a terminal).
pub fn bar(len: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>18} [{elapsed_precise}] {bar:40} {pos}/{len} ({eta})")
    {
        bar.set_style(style);
    }
    bar.set_message(label.to_string());
    bar
}

/// A spinner on stderr for a phase of unknown length.
pub fn spinner(label: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg:>18} [{elapsed_precise}] {spinner}") {
        bar.set_style(style);
    }
    bar.set_message(label.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// A fresh folder for one benchmark's files, removed (with everything in it) on drop.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `{parent or the system temp dir}/helpdesk-bench-{name}-{pid}-{n}`.
    pub fn new(parent: Option<&Path>, name: &str) -> Result<Self, BoxError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let path = parent.join(format!(
            "helpdesk-bench-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).step(format!("creating {}", path.display()))?;
        Ok(Self { path })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!(
                "helpdesk-bench: could not remove {}: {e}",
                self.path.display()
            );
        }
    }
}

/// Prints a two-column table: a title line, then `name  value` rows aligned.
pub fn print_table(title: &str, rows: &[(&str, String)]) {
    println!("{title}");
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("  {k:<width$}  {v}");
    }
}

/// `value` with three decimals followed by a unit.
pub(crate) fn ms(value: f64) -> String {
    format!("{value:.3} ms")
}

/// A small deterministic generator (xorshift64*), so every run uses the same data.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in `[-1, 1)`.
    pub(crate) fn signed_unit(&mut self) -> f32 {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
    }

    /// Approximately standard normal (sum of four uniforms, rescaled).
    pub(crate) fn gaussian(&mut self) -> f32 {
        let s: f32 = (0..4).map(|_| self.signed_unit()).sum();
        s * (3.0f32 / 4.0).sqrt()
    }
}

/// Ticket texts for intake: subject, description (what customers write, several kinds).
pub(crate) const TICKET_TEXTS: &[(&str, &str)] = &[
    (
        "Charged twice for my subscription",
        "I was billed twice this month for the Pro plan. Please refund the duplicate charge.",
    ),
    (
        "Cannot log in after password reset",
        "I reset my password yesterday and now the login page says my password is wrong.",
    ),
    (
        "App crashes when uploading a photo",
        "Every time I attach a photo to a note the app closes. Android 14, latest version.",
    ),
    (
        "Invoice address is wrong",
        "Our invoices still show the old company address. How do I change the billing address?",
    ),
    (
        "Sync is stuck on one device",
        "My laptop has not synced since Monday; the phone syncs fine. I tried logging out.",
    ),
    (
        "Please delete my account",
        "I would like to close my account and have my data deleted under GDPR.",
    ),
    (
        "Export to PDF loses images",
        "When I export a notebook to PDF the images are missing from the file.",
    ),
    (
        "URGENT: whole team locked out",
        "None of our 40 users can sign in since this morning, this is blocking our work!",
    ),
];
