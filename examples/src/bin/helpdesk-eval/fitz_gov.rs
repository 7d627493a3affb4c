//! `helpdesk-eval fitz-gov`: the offline grounding guard's handoff decision on fitz-gov.

use std::path::PathBuf;

use clap::ValueEnum;
use helpdesk_examples::eval::fitz_gov;
use helpdesk_kb_search::{EmbedderOptions, FastembedEmbedder, HELPDESK_MODEL_DIR};

use crate::BoxError;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Tier {
    /// The 60 easy cases.
    Sanity,
    /// The 2,920 core cases.
    Core,
    /// Both.
    All,
}

#[derive(clap::Args)]
pub(crate) struct FitzGovArgs {
    /// fitz-gov's data folder (tier0_sanity/, tier1_core/); default: what
    /// scripts/fetch-fitz-gov.sh caches under ~/.cache/helpdesk/fitz-gov/4.1.0.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Which cases.
    #[arg(long, value_enum, default_value = "all")]
    tier: Tier,
    /// The grounding threshold (default: the tenant default).
    #[arg(long)]
    threshold: Option<f32>,
    /// Ask only the first N cases (after reading the tiers in order).
    #[arg(long)]
    limit: Option<usize>,
    /// List each case's decision (in the JSON).
    #[arg(long)]
    details: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Model folder (model.onnx + tokenizer files).
    #[arg(long, env = HELPDESK_MODEL_DIR)]
    model_dir: PathBuf,
}

pub(crate) fn run(args: &FitzGovArgs) -> Result<(), BoxError> {
    let data = match &args.data {
        Some(d) => d.clone(),
        None => {
            let cache = std::env::var_os("HELPDESK_CACHE")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/helpdesk"))
                })
                .ok_or("no HOME or HELPDESK_CACHE: give --data")?;
            cache.join("fitz-gov/4.1.0/fitz_gov/data")
        }
    };
    if !data.join("tier1_core").is_dir() {
        return Err(format!(
            "{}: no fitz-gov data; run scripts/fetch-fitz-gov.sh (it prints the folder)",
            data.display()
        )
        .into());
    }
    let tiers: &[&str] = match args.tier {
        Tier::Sanity => &["sanity"],
        Tier::Core => &["core"],
        Tier::All => &["sanity", "core"],
    };
    let mut cases = fitz_gov::read_cases(&data, tiers)?;
    if let Some(n) = args.limit {
        cases.truncate(n);
    }
    let work_dir = crate::temp_dir("fitz-gov");
    let result = (|| -> Result<fitz_gov::FitzGovReport, BoxError> {
        std::fs::create_dir_all(&work_dir)?;
        let embedder = std::sync::Arc::new(FastembedEmbedder::from_dir(
            &args.model_dir,
            EmbedderOptions::default(),
        )?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        Ok(runtime.block_on(fitz_gov::evaluate(
            embedder,
            &work_dir,
            &cases,
            args.threshold,
            args.details,
        ))?)
    })();
    // Best effort: a leftover temporary folder is harmless.
    let _ = std::fs::remove_dir_all(&work_dir);
    let report = result?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", fitz_gov::render(&report));
    }
    Ok(())
}
