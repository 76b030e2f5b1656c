//! `switchboard eval`: the NLU measured on the path `serve` runs, beside the direct path and a
//! TF-IDF + logistic-regression baseline, over seeded splits (see `sb_nlu::eval::run`).

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub which: Option<EvalCommand>,
    /// A Snips-2017 folder, a `text,category` CSV, or a folder holding `train.csv` (Banking77).
    #[arg(long, default_value = "../shared/datasets/snips-2017")]
    pub dataset: PathBuf,
    /// Training queries sampled per intent (default: all).
    #[arg(long)]
    pub train_per_intent: Option<usize>,
    /// Comma-separated split seeds; figures are the mean ± half range over them.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    pub seed: Vec<u64>,
    /// Held-out share of each intent for CSV datasets.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Out-of-domain queries from this dataset's test part: OOS recall (fallback rate).
    #[arg(long)]
    pub oos: Option<PathBuf>,
    /// Skip the direct path (classifier and taggers trained without the export).
    #[arg(long)]
    pub no_direct: bool,
    /// The built agent's `mlMinConfidence`: below it a query goes to the fallback intent.
    #[arg(long, default_value_t = 0.3)]
    pub ml_min_confidence: f64,
    /// Only write the Dialogflow ES export of the first seed's training part into this folder.
    #[arg(long)]
    pub write_export: Option<PathBuf>,
    /// The older fixed benchmark: first N Snips training queries, direct path, per-intent table.
    #[arg(long)]
    pub legacy: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum EvalCommand {
    /// Spoken bookings through the phone path: slot accuracy, one-turn success, turns needed.
    Voice(crate::eval_voice::EvalVoiceArgs),
}

pub fn eval(a: EvalArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.dataset.exists(),
        "dataset {} not found",
        a.dataset.display()
    );
    anyhow::ensure!(
        a.train_per_intent != Some(0),
        "--train-per-intent must be at least 1"
    );
    anyhow::ensure!(
        a.test_fraction > 0.0 && a.test_fraction < 1.0,
        "--test-fraction must be between 0 and 1"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&a.ml_min_confidence),
        "--ml-min-confidence must be between 0 and 1"
    );
    if a.legacy {
        let cfg = sb_nlu::eval::EvalConfig {
            dataset_dir: a.dataset.clone(),
            train_per_intent: a.train_per_intent.unwrap_or(70),
        };
        let report = sb_nlu::eval::run_snips(&cfg)
            .with_context(|| format!("evaluation on {} failed", a.dataset.display()))?;
        println!("{report}");
        return Ok(());
    }
    let mut cfg = sb_nlu::eval::RunConfig::new(&a.dataset);
    cfg.train_per_intent = a.train_per_intent;
    cfg.seeds = a.seed.clone();
    cfg.test_fraction = a.test_fraction;
    cfg.oos = a.oos.clone();
    cfg.skip_direct = a.no_direct;
    cfg.ml_min_confidence = a.ml_min_confidence;
    if let Some(dir) = &a.write_export {
        sb_nlu::eval::run::write_split_export(&cfg, dir)
            .with_context(|| format!("cannot write the export to {}", dir.display()))?;
        println!("export written to {}", dir.display());
        return Ok(());
    }
    let report = sb_nlu::eval::run(&cfg)
        .with_context(|| format!("evaluation on {} failed", a.dataset.display()))?;
    println!("{report}");
    Ok(())
}
