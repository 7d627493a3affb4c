//! Progress reporting for long indexing runs.

/// Receives indexing progress (one unit per chunk embedded).
pub trait IndexProgress: Send + Sync {
    /// The run starts with `total` units of work.
    fn start(&self, total: u64);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The run is over (successfully or not).
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl IndexProgress for NoProgress {
    fn start(&self, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// An indicatif progress bar for CLIs (feature `progress`).
#[cfg(feature = "progress")]
impl IndexProgress for indicatif::ProgressBar {
    fn start(&self, total: u64) {
        self.set_length(total);
        self.set_position(0);
    }

    fn advance(&self, n: u64) {
        self.inc(n);
    }

    fn finish(&self) {
        self.finish_and_clear();
    }
}

/// A progress bar styled for indexing (`[00:00:03] ####>---- 120/300 chunks`).
#[cfg(feature = "progress")]
pub fn indexing_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "[{elapsed_precise}] {bar:40} {pos}/{len} chunks ({eta})",
    ) {
        bar.set_style(style);
    }
    bar
}
