//! `helpdesk-eval chatbot`: BANKING77 (default) or the demo company's questions.

use std::path::PathBuf;

use clap::ValueEnum;
use helpdesk_examples::eval::banking77::{self, bank::Provider};
use helpdesk_examples::eval::chatbot;
use helpdesk_kb_search::{EmbedderOptions, FastembedEmbedder, HELPDESK_MODEL_DIR};

use crate::BoxError;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ChatbotSet {
    /// BANKING77's queries against a bank's help centre (one article per intent, 20 held
    /// out); thresholds chosen on train.csv, figures on test.csv.
    Banking77,
    /// The demo company's 156 labelled questions.
    Demo,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ChatbotSplit {
    /// Where the threshold is chosen (sweep and rule).
    Tune,
    /// Reported once at the chosen threshold; no sweep.
    Test,
    /// Every question (no sweep).
    All,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderChoice {
    /// No model: retrieval and the grounding guard alone.
    Offline,
    /// Core's mock model scripted to always answer (what the guard alone prevents).
    Mock,
    /// The real models configured in the environment (GEMINI_API_KEY).
    Live,
}

#[derive(clap::Args)]
pub(crate) struct ChatbotArgs {
    /// Which labelled set.
    #[arg(long, value_enum, default_value = "banking77")]
    set: ChatbotSet,
    /// banking77: the BANKING77 folder (train.csv, test.csv); demo: the labelled set (JSON
    /// lines, default the bundled examples/data/chatbot-eval.jsonl).
    #[arg(long)]
    data: Option<PathBuf>,
    /// demo: which questions (default tune).
    #[arg(long, value_enum)]
    split: Option<ChatbotSplit>,
    /// Report at this grounding threshold instead of the chosen one (banking77) or the
    /// tenant default (demo).
    #[arg(long)]
    threshold: Option<f32>,
    /// List each question's decision.
    #[arg(long)]
    details: bool,
    /// demo: skip asking the questions again through the bot at the reported threshold.
    #[arg(long)]
    no_check: bool,
    /// banking77: who answers (default offline,mock and live when a model is configured).
    #[arg(long, value_enum, value_delimiter = ',')]
    providers: Vec<ProviderChoice>,
    /// banking77: a live model is asked the first N test queries of each intent (0: all).
    #[arg(long, default_value_t = 5)]
    live_per_intent: usize,
    /// banking77: the committed test subsample (4 queries per intent) at the recorded
    /// threshold, without --data (what the chatbot_banking77 test runs).
    #[arg(long)]
    sample: bool,
    /// banking77: reuse query embeddings between runs (a cache file keyed by text and model).
    #[arg(long)]
    embeddings_cache: Option<PathBuf>,
    /// banking77: the hybrid search's vector weight (kb-search's default unless given; for
    /// tuning on train).
    #[arg(long)]
    vector_weight: Option<f32>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Model folder (model.onnx + tokenizer files).
    #[arg(long, env = HELPDESK_MODEL_DIR)]
    model_dir: PathBuf,
}

pub(crate) fn run(args: &ChatbotArgs) -> Result<(), BoxError> {
    match args.set {
        ChatbotSet::Banking77 => banking77(args),
        ChatbotSet::Demo => demo(args),
    }
}

fn banking77(args: &ChatbotArgs) -> Result<(), BoxError> {
    if args.split.is_some() || args.no_check {
        return Err("--split and --no-check apply to --set demo".into());
    }
    let articles = banking77::parse_articles(banking77::BUNDLED_ARTICLES)?;
    let (train, test, threshold) = if args.sample {
        if args.data.is_some() {
            return Err("--sample runs the committed subsample: no --data".into());
        }
        let test = banking77::parse_queries(banking77::TEST_SAMPLE, "banking77-test-sample.csv")?;
        let threshold = args.threshold.unwrap_or(banking77::TRAIN_CHOSEN_THRESHOLD);
        (None, test, Some(threshold))
    } else {
        let dir = args
            .data
            .clone()
            .unwrap_or_else(|| PathBuf::from("../shared/data/banking77"));
        let train = banking77::read_queries(&dir, "train.csv")?;
        let test = banking77::read_queries(&dir, "test.csv")?;
        (Some(train), test, args.threshold)
    };
    let (live, mut notes) = banking77::bank::live_providers_from_env()?;
    let choices = if args.providers.is_empty() {
        vec![
            ProviderChoice::Offline,
            ProviderChoice::Mock,
            ProviderChoice::Live,
        ]
    } else {
        args.providers.clone()
    };
    let mut providers = Vec::new();
    for choice in choices {
        match choice {
            ProviderChoice::Offline => providers.push(Provider::Offline),
            ProviderChoice::Mock => providers.push(Provider::AlwaysAnswer),
            ProviderChoice::Live => {
                if live.is_empty() && !args.providers.is_empty() {
                    return Err("--providers live: no model configured (GEMINI_API_KEY)".into());
                }
                if live.is_empty() {
                    notes.push("no real model configured (GEMINI_API_KEY): not asked".into());
                }
                providers.extend(live.iter().cloned());
            }
        }
    }
    let options = banking77::EvaluateOptions {
        threshold,
        providers,
        live_per_intent: (args.live_per_intent > 0).then_some(args.live_per_intent),
        details: args.details,
        notes,
        embeddings_cache: args.embeddings_cache.clone(),
        vector_weight: args.vector_weight,
    };
    let work_dir = crate::temp_dir("banking77");
    let result = (|| -> Result<banking77::Banking77Report, BoxError> {
        std::fs::create_dir_all(&work_dir)?;
        let embedder = std::sync::Arc::new(FastembedEmbedder::from_dir(
            &args.model_dir,
            EmbedderOptions::default(),
        )?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        Ok(runtime.block_on(banking77::evaluate(
            embedder,
            &work_dir,
            &articles,
            train.as_deref(),
            &test,
            &options,
        ))?)
    })();
    // Best effort: a leftover temporary folder is harmless.
    let _ = std::fs::remove_dir_all(&work_dir);
    let report = result?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", banking77::report::render(&report));
    }
    Ok(())
}

fn demo(args: &ChatbotArgs) -> Result<(), BoxError> {
    if args.sample || !args.providers.is_empty() {
        return Err("--sample and --providers apply to --set banking77".into());
    }
    let text = match &args.data {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => chatbot::BUNDLED_SET.to_string(),
    };
    let set = chatbot::parse_set(&text)?;
    let split_arg = args.split.unwrap_or(ChatbotSplit::Tune);
    let split = match split_arg {
        ChatbotSplit::Tune => Some(chatbot::Split::Tune),
        ChatbotSplit::Test => Some(chatbot::Split::Test),
        ChatbotSplit::All => None,
    };
    let options = chatbot::EvaluateOptions {
        split,
        threshold: args.threshold,
        sweep: split_arg == ChatbotSplit::Tune,
        check: !args.no_check,
        details: args.details,
    };
    // The index lives in a fresh folder of its own, removed afterwards.
    let index_dir = crate::temp_dir("chatbot");
    let result = (|| -> Result<chatbot::ChatbotReport, BoxError> {
        let backends = chatbot::run::minilm_backends(&args.model_dir, &index_dir)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        Ok(runtime.block_on(chatbot::evaluate(&backends, &set, &options))?)
    })();
    // Best effort: a leftover temporary folder is harmless.
    let _ = std::fs::remove_dir_all(&index_dir);
    let report = result?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", chatbot::report::render(&report));
    }
    Ok(())
}
