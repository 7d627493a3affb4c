//! `helpdesk-eval`: evaluates the learned ticket classifier on public data, and the
//! chatbot on BANKING77's queries, on the labelled questions of the demo company and (its
//! grounding guard) on fitz-gov.
//!
//! ```text
//! eval "$(scripts/setup-model.sh)"
//! helpdesk-eval banking77 --data ../shared/data/banking77 [--shots N] [--json]
//! helpdesk-eval chatbot [--set banking77] [--data ../shared/data/banking77] [--providers offline,mock,live]
//!                       [--sample] [--threshold T] [--details] [--json]
//! helpdesk-eval chatbot --set demo [--split tune|test|all] [--threshold T] [--details] [--json]
//! helpdesk-eval fitz-gov [--data DIR] [--threshold T] [--json]
//! ```
//!
//! Trains on `train.csv` (or the first N examples per intent with `--shots N`) and reports
//! accuracy on `test.csv`. `--split validation` holds out a stratified tenth of `train.csv`
//! instead and never reads `test.csv`: tune options there, never on the test set.
//!
//! `chatbot` (`--set banking77`, the default) builds a bank's help centre of one article
//! per BANKING77 intent with 20 intents held out, chooses the grounding threshold on
//! `train.csv` and asks the `test.csv` queries through the real chat path per provider
//! (see `helpdesk_examples::eval::banking77`). `--set demo` asks each question of
//! `examples/data/chatbot-eval.jsonl` (or `--data`) as a first chat turn of the offline bot
//! on the demo knowledge base (MiniLM, kb-search) and reports answers, handoffs and
//! greetings against the labels. On the tune split it also sweeps the grounding threshold
//! and applies the rule that picks the default; on the test split it reports at the
//! default (or `--threshold`) only.
//!
//! `fitz-gov` asks each fitz-gov question of its passages (a tenant each) and reports the
//! offline bot's handoff decision against fitz-gov's answer-or-abstain label.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod chatbot;
mod fitz_gov;

use clap::{Parser, Subcommand, ValueEnum};
use helpdesk_examples::error_chain;
use helpdesk_kb_search::classifier::{
    FeatureOptions, LabelledText, TextClassifierModel, TrainOptions,
};
use helpdesk_kb_search::{EmbedderOptions, FastembedEmbedder, HELPDESK_MODEL_DIR};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Parser)]
#[command(
    name = "helpdesk-eval",
    about = "Evaluate helpdesk-rs's learned ticket classifier and chatbot"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// BANKING77 intent classification (77 intents, real customer-support queries).
    Banking77(Banking77Args),
    /// The chatbot's first-turn decisions: BANKING77 queries against a bank's help centre
    /// (default), or the labelled demo-company questions (`--set demo`).
    Chatbot(chatbot::ChatbotArgs),
    /// The offline grounding guard's answer-or-hand-off decision on fitz-gov.
    FitzGov(fitz_gov::FitzGovArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Split {
    /// Train on train.csv, evaluate on the held-out test.csv.
    Test,
    /// Train on 90% of train.csv, evaluate on the other 10% (for tuning).
    Validation,
}

#[derive(clap::Args)]
struct Banking77Args {
    /// Folder with train.csv and test.csv (columns text,category).
    #[arg(long)]
    data: PathBuf,
    /// Train on this many examples per intent (a seeded draw from train.csv).
    #[arg(long)]
    shots: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Which split to evaluate on.
    #[arg(long, value_enum, default_value = "test")]
    split: Split,
    /// Seed for --shots draws and the validation split.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Model folder (model.onnx + tokenizer files).
    #[arg(long, env = HELPDESK_MODEL_DIR)]
    model_dir: PathBuf,
    /// Reuse embeddings between runs: a cache file keyed by the texts and model folder.
    #[arg(long)]
    embeddings_cache: Option<PathBuf>,
    /// SVM C (inverse regularisation).
    #[arg(long)]
    c: Option<f32>,
    /// Weight of the word n-gram TF-IDF block.
    #[arg(long)]
    word_weight: Option<f32>,
    /// Weight of the character n-gram TF-IDF block.
    #[arg(long)]
    char_weight: Option<f32>,
    /// Weight of the embedding block.
    #[arg(long)]
    embedding_weight: Option<f32>,
    /// Weight of the nearest-neighbour term.
    #[arg(long)]
    neighbour_weight: Option<f32>,
    /// Keep the feature weights whatever the training-set size.
    #[arg(long)]
    no_adapt: bool,
    /// Training threads.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct Example {
    text: String,
    category: String,
}

#[derive(Serialize)]
struct Report {
    dataset: &'static str,
    split: &'static str,
    shots: Option<usize>,
    train_examples: usize,
    eval_examples: usize,
    categories: usize,
    accuracy: f64,
    knn1_accuracy: f64,
    mean_confidence_correct: f64,
    mean_confidence_wrong: f64,
    embed_s: f64,
    train_s: f64,
    predict_ms_p50: f64,
    predict_ms_p95: f64,
    threads: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Banking77(args) => banking77(&args),
        Command::Chatbot(args) => chatbot::run(&args),
        Command::FitzGov(args) => fitz_gov::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The outermost edge: print the whole source chain on one line.
            let chain: Vec<String> = error_chain(&*e).map(|s| s.to_string()).collect();
            eprintln!("helpdesk-eval: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn read_csv(path: &Path) -> Result<Vec<Example>, BoxError> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, row) in reader.deserialize::<Example>().enumerate() {
        let row = row.map_err(|e| format!("{} row {}: {e}", path.display(), i + 2))?;
        if row.text.trim().is_empty() || row.category.trim().is_empty() {
            return Err(format!("{} row {}: empty text or category", path.display(), i + 2).into());
        }
        out.push(row);
    }
    if out.is_empty() {
        return Err(format!("{}: no rows", path.display()).into());
    }
    Ok(out)
}

/// xorshift64* for reproducible draws.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..v.len()).rev() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        let j = (s.wrapping_mul(0x2545_F491_4F6C_DD1D) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

fn by_category(examples: Vec<Example>, seed: u64) -> BTreeMap<String, Vec<Example>> {
    let mut groups: BTreeMap<String, Vec<Example>> = BTreeMap::new();
    for e in examples {
        groups.entry(e.category.clone()).or_default().push(e);
    }
    for (i, g) in groups.values_mut().enumerate() {
        shuffle(g, seed.wrapping_add(i as u64));
    }
    groups
}

fn banking77(args: &Banking77Args) -> Result<(), BoxError> {
    let train_all = read_csv(&args.data.join("train.csv"))?;
    let (mut train, eval) = match args.split {
        Split::Test => (train_all, read_csv(&args.data.join("test.csv"))?),
        Split::Validation => {
            let (mut train, mut eval) = (Vec::new(), Vec::new());
            for (_, group) in by_category(train_all, args.seed) {
                let held = group.len().div_ceil(10);
                let mut group = group.into_iter();
                eval.extend(group.by_ref().take(held));
                train.extend(group);
            }
            (train, eval)
        }
    };
    if let Some(shots) = args.shots {
        if shots == 0 {
            return Err("--shots must be positive".into());
        }
        train = by_category(train, args.seed ^ 0x5eed)
            .into_values()
            .flat_map(|g| g.into_iter().take(shots))
            .collect();
    }

    let mut options = TrainOptions::default();
    if let Some(t) = args.threads {
        options.threads = t.max(1);
    }
    let features = FeatureOptions {
        word_weight: args.word_weight.unwrap_or(options.features.word_weight),
        char_weight: args.char_weight.unwrap_or(options.features.char_weight),
        embedding_weight: args
            .embedding_weight
            .unwrap_or(options.features.embedding_weight),
        ..options.features.clone()
    };
    options.features = features;
    if let Some(w) = args.neighbour_weight {
        options.neighbour_weight = w;
    }
    if args.no_adapt {
        options.adapt_to_size = false;
    }
    if let Some(c) = args.c {
        options.c = c;
    }

    // Embeddings (timed separately from training).
    let texts: Vec<String> = train.iter().chain(&eval).map(|e| e.text.clone()).collect();
    let embedder = FastembedEmbedder::from_dir(&args.model_dir, EmbedderOptions::default())?;
    let started = Instant::now();
    let vectors = embed_cached(
        &embedder,
        &texts,
        &args.model_dir,
        args.embeddings_cache.as_deref(),
    )?;
    let embed_s = started.elapsed().as_secs_f64();
    let (train_vecs, eval_vecs) = vectors.split_at(train.len());

    let labelled: Vec<LabelledText<'_>> = train
        .iter()
        .zip(train_vecs)
        .map(|(e, v)| LabelledText {
            text: &e.text,
            embedding: v,
            category: &e.category,
        })
        .collect();
    let started = Instant::now();
    let model = TextClassifierModel::train(&labelled, &options)?;
    let train_s = started.elapsed().as_secs_f64();

    let mut latencies = Vec::with_capacity(eval.len());
    let (mut correct, mut conf_ok, mut conf_bad) = (0usize, 0f64, 0f64);
    for (e, v) in eval.iter().zip(eval_vecs) {
        let t = Instant::now();
        let p = model.predict(&e.text, v)?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        if p.category == e.category {
            correct += 1;
            conf_ok += f64::from(p.confidence);
        } else {
            conf_bad += f64::from(p.confidence);
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    let wrong = eval.len() - correct;

    // Reference point: cosine 1-nearest-neighbour on the embeddings alone.
    let knn_correct = eval
        .iter()
        .zip(eval_vecs)
        .filter(|(e, v)| {
            let best = train_vecs
                .iter()
                .enumerate()
                .map(|(i, t)| (i, t.iter().zip(v.iter()).map(|(a, b)| a * b).sum::<f32>()))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            best.is_some_and(|(i, _)| train[i].category == e.category)
        })
        .count();

    let report = Report {
        dataset: "banking77",
        split: match args.split {
            Split::Test => "test",
            Split::Validation => "validation",
        },
        shots: args.shots,
        train_examples: train.len(),
        eval_examples: eval.len(),
        categories: model.categories().len(),
        accuracy: correct as f64 / eval.len() as f64,
        knn1_accuracy: knn_correct as f64 / eval.len() as f64,
        mean_confidence_correct: conf_ok / correct.max(1) as f64,
        mean_confidence_wrong: conf_bad / wrong.max(1) as f64,
        embed_s,
        train_s,
        predict_ms_p50: pct(0.5),
        predict_ms_p95: pct(0.95),
        threads: options.threads,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "banking77 ({} split{}): {} train, {} eval, {} intents",
            report.split,
            args.shots
                .map(|s| format!(", {s} shots per intent"))
                .unwrap_or_default(),
            report.train_examples,
            report.eval_examples,
            report.categories
        );
        println!(
            "accuracy        {:.2}%  (MiniLM 1-NN on the same embeddings: {:.2}%)",
            report.accuracy * 100.0,
            report.knn1_accuracy * 100.0
        );
        println!(
            "confidence      {:.2} when right, {:.2} when wrong",
            report.mean_confidence_correct, report.mean_confidence_wrong
        );
        println!(
            "embed_s         {:.1}  ({} texts)",
            report.embed_s,
            texts.len()
        );
        println!(
            "train_s         {:.2}  ({} threads)",
            report.train_s, report.threads
        );
        println!(
            "predict_ms      p50 {:.3}, p95 {:.3} (features + SVM, embedding excluded)",
            report.predict_ms_p50, report.predict_ms_p95
        );
    }
    Ok(())
}

/// Embeds `texts`, reading and writing `cache` when given (keyed by texts and model file).
fn embed_cached(
    embedder: &FastembedEmbedder,
    texts: &[String],
    model_dir: &Path,
    cache: Option<&Path>,
) -> Result<Vec<Vec<f32>>, BoxError> {
    let Some(cache) = cache else {
        return Ok(embedder.embed_blocking(texts)?);
    };
    let mut hasher = Sha256::new();
    let model_meta = std::fs::metadata(model_dir.join("model.onnx"))?;
    hasher.update(model_meta.len().to_le_bytes());
    for t in texts {
        hasher.update((t.len() as u64).to_le_bytes());
        hasher.update(t.as_bytes());
    }
    let key: [u8; 32] = hasher.finalize().into();
    if let Ok(bytes) = std::fs::read(cache)
        && bytes.len() > 40
        && bytes[..32] == key
    {
        let dims = u64::from_le_bytes(bytes[32..40].try_into()?) as usize;
        let floats: Vec<f32> = bytes[40..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if dims > 0 && floats.len() == dims * texts.len() {
            return Ok(floats.chunks(dims).map(<[f32]>::to_vec).collect());
        }
    }
    let vectors = embedder.embed_blocking(texts)?;
    let dims = vectors.first().map_or(0, Vec::len);
    let mut bytes = Vec::with_capacity(40 + 4 * dims * vectors.len());
    bytes.extend_from_slice(&key);
    bytes.extend_from_slice(&(dims as u64).to_le_bytes());
    for v in &vectors {
        for x in v {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
    }
    std::fs::write(cache, bytes)?;
    Ok(vectors)
}

/// A fresh folder name under the system's temporary folder, unique to this run.
pub(crate) fn temp_dir(label: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "helpdesk-eval-{label}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ))
}
