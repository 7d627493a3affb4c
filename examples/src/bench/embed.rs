//! `embed`: MiniLM sentences per second through helpdesk-kb-search's `FastembedEmbedder`
//! at batch 32, against onnxruntime in Python (`scripts/bench_embed_python.py`) on the same
//! model files and the same sentences, in the same run.
//!
//! Both sides sort the sentences by length, batch them by 32, pad to the longest in each
//! batch, truncate at 256 tokens, run ONNX Runtime on the CPU with the same intra-op thread
//! count, mean-pool and normalise; both time tokenisation and inference, not model
//! loading, after one warm-up batch. The Rust passes are split around the Python run so
//! that a slow patch of a noisy machine does not fall on one side only.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use helpdesk_kb_search::{EmbedderOptions, FastembedEmbedder};
use serde::{Deserialize, Serialize};

use super::{BoxError, PROFILE, Rng, Samples, ScratchDir, Step, bar, print_table};

/// The ratio the issue asks for (Rust rate / Python rate).
pub const GOAL_RATIO: f64 = 1.0;

/// Options of an embed run.
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    /// Sentences per pass.
    pub n: usize,
    /// Timed passes per side.
    pub reps: usize,
    /// Sentences per inference batch.
    pub batch: usize,
    /// ONNX Runtime intra-op threads (both sides).
    pub threads: usize,
    /// The model folder (model.onnx and tokenizer files).
    pub model_dir: PathBuf,
    /// The Python interpreter (with onnxruntime, tokenizers and numpy).
    pub python: PathBuf,
    /// `scripts/bench_embed_python.py`.
    pub script: PathBuf,
}

/// The result of an embed run.
#[derive(Debug, Clone, Serialize)]
pub struct EmbedReport {
    /// The build profile of the binary.
    pub profile: &'static str,
    /// Sentences per pass.
    pub n: usize,
    /// Batch size.
    pub batch: usize,
    /// Intra-op threads.
    pub threads: usize,
    /// Sentences per second in Rust (median of the passes).
    pub per_s: f64,
    /// Sentences per second in Python (median of its passes).
    pub python_per_s: f64,
    /// `per_s / python_per_s`.
    pub ratio: f64,
    /// The goal for `ratio`.
    pub goal_ratio: f64,
    /// The onnxruntime version the Python side reported.
    pub python_onnxruntime: String,
}

impl EmbedReport {
    /// Prints the report as a table.
    pub fn print(&self) {
        print_table(
            &format!(
                "embed (all-MiniLM-L6-v2, {} sentences, batch {}, {} threads, {} build)",
                self.n, self.batch, self.threads, self.profile
            ),
            &[
                (
                    "Rust FastembedEmbedder",
                    format!("{:.1} sentences/s", self.per_s),
                ),
                (
                    "Python onnxruntime",
                    format!(
                        "{:.1} sentences/s (onnxruntime {})",
                        self.python_per_s, self.python_onnxruntime
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

#[derive(Deserialize)]
struct PythonResult {
    per_s: f64,
    onnxruntime: String,
}

/// Support-ticket sentences of varied length (a few words to a paragraph), deterministic.
pub fn sentences(n: usize) -> Vec<String> {
    const OPENERS: &[&str] = &[
        "Hi,",
        "Hello support team,",
        "Good morning,",
        "",
        "Urgent:",
        "Quick question:",
    ];
    const PROBLEMS: &[&str] = &[
        "I cannot log in to my account after resetting my password",
        "I was charged twice for my subscription this month",
        "the mobile app crashes whenever I upload a photo",
        "my invoices still show our old billing address",
        "sync has been stuck on my laptop since Monday",
        "I would like to delete my account and all of my data",
        "the PDF export is missing every image in the notebook",
        "none of the people on my team can sign in this morning",
        "how do I change the e-mail address on my profile",
        "the search does not find notes I wrote last week",
    ];
    const DETAILS: &[&str] = &[
        "I already tried logging out and back in.",
        "This started after the latest update.",
        "We are on the Business plan with forty seats.",
        "Please tell me what information you need from me.",
        "I have attached a screenshot of the error message.",
        "It works on my phone but not on the desktop app.",
        "Our finance department needs this fixed before the end of the month.",
        "I restarted the device and reinstalled the app, with no change at all.",
    ];
    let mut rng = Rng::new(0xe3bed);
    (0..n)
        .map(|_| {
            let mut s = String::new();
            let opener = OPENERS[rng.below(OPENERS.len())];
            if !opener.is_empty() {
                s.push_str(opener);
                s.push(' ');
            }
            s.push_str(PROBLEMS[rng.below(PROBLEMS.len())]);
            s.push('.');
            for _ in 0..rng.below(5) {
                s.push(' ');
                s.push_str(DETAILS[rng.below(DETAILS.len())]);
            }
            s
        })
        .collect()
}

fn run_python(options: &EmbedOptions, input: &Path) -> Result<PythonResult, BoxError> {
    let output = Command::new(&options.python)
        .arg(&options.script)
        .arg("--model")
        .arg(&options.model_dir)
        .arg("--input")
        .arg(input)
        .arg("--batch")
        .arg(options.batch.to_string())
        .arg("--threads")
        .arg(options.threads.to_string())
        .arg("--reps")
        .arg(options.reps.to_string())
        .output()
        .step(format!(
            "running {} {}",
            options.python.display(),
            options.script.display()
        ))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            options.script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    serde_json::from_slice(&output.stdout).step(format!(
        "reading the JSON printed by {}",
        options.script.display()
    ))
}

/// Runs the embed benchmark (blocking: ONNX inference, call it off any async runtime).
pub fn run(options: &EmbedOptions) -> Result<EmbedReport, BoxError> {
    let texts = sentences(options.n.max(1));
    let scratch = ScratchDir::new(None, "embed")?;
    let input = scratch.path().join("sentences.jsonl");
    let mut lines = String::new();
    for t in &texts {
        lines.push_str(&serde_json::to_string(t).step("encoding a sentence")?);
        lines.push('\n');
    }
    std::fs::write(&input, lines).step(format!("writing {}", input.display()))?;

    let embedder = FastembedEmbedder::from_dir(
        &options.model_dir,
        EmbedderOptions {
            batch_size: options.batch.max(1),
            threads: options.threads.max(1),
            ..EmbedderOptions::default()
        },
    )
    .step(format!(
        "loading the model from {}",
        options.model_dir.display()
    ))?;
    let warm: Vec<String> = texts.iter().take(options.batch.max(1)).cloned().collect();
    embedder.embed_blocking(&warm).step("warm-up batch")?;

    let reps = options.reps.max(1);
    let progress = bar(reps as u64, "Rust passes");
    let mut rust = Samples::with_capacity(reps);
    let mut pass = || -> Result<(), BoxError> {
        let t = Instant::now();
        let vectors = embedder.embed_blocking(&texts).step("embedding")?;
        let secs = t.elapsed().as_secs_f64();
        if vectors.len() != texts.len() {
            return Err("the embedder returned a vector count unlike the input's".into());
        }
        rust.push_ms(texts.len() as f64 / secs.max(1e-9));
        progress.inc(1);
        Ok(())
    };
    let first = reps.div_ceil(2);
    for _ in 0..first {
        pass()?;
    }
    let python = {
        let running = super::spinner("Python passes");
        let python = run_python(options, &input);
        running.finish_and_clear();
        python?
    };
    for _ in first..reps {
        pass()?;
    }
    progress.finish_and_clear();

    let per_s = rust.median();
    Ok(EmbedReport {
        profile: PROFILE,
        n: texts.len(),
        batch: options.batch,
        threads: options.threads,
        per_s,
        python_per_s: python.per_s,
        ratio: per_s / python.per_s.max(f64::MIN_POSITIVE),
        goal_ratio: GOAL_RATIO,
        python_onnxruntime: python.onnxruntime,
    })
}
