//! One evaluation run: the engine path, the direct path and the baseline on the same seeded
//! splits, for every seed, reported as mean ± spread.
//!
//! Datasets: a Snips-2017 folder (training queries sampled per intent from `train_*.json`, all
//! `validate_*.json` queries scored) or a `text,category` CSV such as Banking77's `train.csv`
//! (a stratified held-out part per seed, training queries sampled per intent from the rest).

use std::fmt;
use std::path::{Path, PathBuf};

use super::export::ExportOptions;
use super::paths::{baseline_path, direct_path, engine_path, Scores};
use super::split::{load_csv, permutation, sample, stratified, Labelled};
use crate::NluError;

#[derive(Debug, Clone)]
pub struct RunConfig {
    /// A Snips-2017 folder, a CSV file, or a folder holding `train.csv`.
    pub dataset: PathBuf,
    /// Training queries per intent (`None`: all).
    pub train_per_intent: Option<usize>,
    pub seeds: Vec<u64>,
    /// Held-out share of a CSV dataset.
    pub test_fraction: f64,
    /// Out-of-domain queries come from this dataset's test part (any of the kinds above).
    pub oos: Option<PathBuf>,
    /// At most this many OOS queries (a seeded sample).
    pub max_oos: usize,
    /// Skip the direct path (it trains a second classifier and all taggers).
    pub skip_direct: bool,
    /// The built agent's `mlMinConfidence` (Dialogflow's default 0.3), the threshold of every path.
    pub ml_min_confidence: f64,
}

impl RunConfig {
    pub fn new(dataset: impl Into<PathBuf>) -> RunConfig {
        RunConfig {
            dataset: dataset.into(),
            train_per_intent: None,
            seeds: vec![1, 2, 3],
            test_fraction: 0.2,
            oos: None,
            max_oos: 1000,
            skip_direct: false,
            ml_min_confidence: ExportOptions::default().ml_min_confidence,
        }
    }
}

/// The figures of one seed.
#[derive(Debug, Clone)]
pub struct SeedRun {
    pub seed: u64,
    pub n_train: usize,
    pub n_test: usize,
    pub n_oos: usize,
    pub engine: Scores,
    pub direct: Option<Scores>,
    pub baseline: Scores,
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub dataset: String,
    pub train_per_intent: Option<usize>,
    pub n_intents: usize,
    pub threshold: f32,
    pub runs: Vec<SeedRun>,
}

enum Source {
    /// Fixed train pool and test set.
    Fixed(Labelled, Labelled),
    /// One pool, split per seed.
    Pool(Labelled),
}

fn open(path: &Path) -> Result<Source, NluError> {
    let csv = if path.is_file() {
        Some(path.to_path_buf())
    } else {
        let p = path.join("train.csv");
        p.is_file().then_some(p)
    };
    match csv {
        Some(p) => Ok(Source::Pool(load_csv(&p)?)),
        None => {
            let d = super::dataset::load(path)?;
            let (train, test) = d
                .intents
                .into_iter()
                .map(|(n, tr, te)| ((n.clone(), tr), (n, te)))
                .unzip();
            Ok(Source::Fixed(train, test))
        }
    }
}

fn split(src: &Source, cfg: &RunConfig, seed: u64) -> (Labelled, Labelled) {
    let n = cfg.train_per_intent.unwrap_or(usize::MAX);
    match src {
        Source::Fixed(train, test) => (sample(train, n, seed), test.clone()),
        Source::Pool(pool) => {
            let (train, test) = stratified(pool, cfg.test_fraction, seed);
            (sample(&train, n, seed), test)
        }
    }
}

/// Out-of-domain texts: the test part of `src` for `seed`, a seeded sample of at most `max`.
fn oos_texts(src: &Source, cfg: &RunConfig, seed: u64) -> Vec<String> {
    let test = match src {
        Source::Fixed(_, test) => test.clone(),
        Source::Pool(pool) => stratified(pool, cfg.test_fraction, seed).1,
    };
    let all: Vec<String> = test
        .into_iter()
        .flat_map(|(_, qs)| qs.into_iter().map(|q| q.text))
        .collect();
    let perm = permutation(all.len(), seed ^ 0x00f0_0d00);
    perm.into_iter()
        .take(cfg.max_oos)
        .filter_map(|i| all.get(i).cloned())
        .collect()
}

/// Writes the Dialogflow ES export of the first seed's training part into `dir`: the agent the
/// engine path evaluates, for `serve`, `chat` or `bench nlu`.
pub fn write_split_export(cfg: &RunConfig, dir: &Path) -> Result<(), NluError> {
    let src = open(&cfg.dataset)?;
    let seed = cfg.seeds.first().copied().unwrap_or(1);
    let (train, _) = split(&src, cfg, seed);
    super::export::write_export(dir, &train, &export_options(cfg))
}

fn export_options(cfg: &RunConfig) -> ExportOptions {
    ExportOptions {
        ml_min_confidence: cfg.ml_min_confidence,
        ..ExportOptions::default()
    }
}

pub fn run(cfg: &RunConfig) -> Result<RunReport, NluError> {
    if cfg.seeds.is_empty() {
        return Err(NluError::Other("at least one seed is needed".into()));
    }
    if cfg.train_per_intent == Some(0) {
        return Err(NluError::Other(
            "train_per_intent must be at least 1".into(),
        ));
    }
    if !(0.0..=1.0).contains(&cfg.ml_min_confidence) {
        return Err(NluError::Other(
            "mlMinConfidence must be between 0 and 1".into(),
        ));
    }
    let src = open(&cfg.dataset)?;
    let oos_src = cfg.oos.as_deref().map(open).transpose()?;
    let opts = export_options(cfg);
    let threshold = opts.ml_min_confidence as f32;
    let mut runs = Vec::new();
    let mut n_intents = 0;
    for &seed in &cfg.seeds {
        let (train, test) = split(&src, cfg, seed);
        n_intents = train.len();
        let oos = oos_src
            .as_ref()
            .map(|o| oos_texts(o, cfg, seed))
            .unwrap_or_default();
        let count = |d: &Labelled| d.iter().map(|(_, q)| q.len()).sum::<usize>();
        let engine = engine_path(&train, &test, &oos, &opts)?;
        let direct = if cfg.skip_direct {
            None
        } else {
            Some(direct_path(&train, &test, &oos, threshold)?)
        };
        let baseline = baseline_path(&train, &test, &oos, threshold);
        runs.push(SeedRun {
            seed,
            n_train: count(&train),
            n_test: count(&test),
            n_oos: oos.len(),
            engine,
            direct,
            baseline,
        });
    }
    Ok(RunReport {
        dataset: cfg.dataset.display().to_string(),
        train_per_intent: cfg.train_per_intent,
        n_intents,
        threshold,
        runs,
    })
}

/// Mean and half the range of `v`.
pub fn mean_spread(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, (hi - lo) / 2.0)
}

impl RunReport {
    /// Mean and spread of one figure of one system over the seeds (`None` if a run lacks it).
    pub fn stat(
        &self,
        system: fn(&SeedRun) -> Option<&Scores>,
        figure: fn(&Scores) -> Option<f64>,
    ) -> Option<(f64, f64)> {
        let v: Option<Vec<f64>> = self
            .runs
            .iter()
            .map(|r| system(r).and_then(figure))
            .collect();
        v.map(|v| mean_spread(&v))
    }
}

type Figure = (&'static str, fn(&Scores) -> Option<f64>, bool);

const FIGURES: &[Figure] = &[
    ("intent accuracy (top-1)", |s| Some(s.accuracy), false),
    ("in scope (≥ threshold)", |s| Some(s.in_scope), false),
    ("OOS recall (fallback)", |s| s.oos_recall, false),
    ("slot P (micro)", |s| s.slots.map(|x| x.precision), false),
    ("slot R (micro)", |s| s.slots.map(|x| x.recall), false),
    ("slot F1 (micro)", |s| s.slots.map(|x| x.f1), false),
    ("slot F1 (macro)", |s| s.slots.map(|x| x.f1_macro), false),
    ("train / load time, s", |s| Some(s.train_s), true),
    ("parse p50, µs", |s| Some(s.p50_us), true),
    ("parse p99, µs", |s| Some(s.p99_us), true),
];

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per = self
            .train_per_intent
            .map_or("all".to_string(), |n| n.to_string());
        writeln!(
            f,
            "{} — {} intents, training queries per intent: {per}, threshold {:.2}",
            self.dataset, self.n_intents, self.threshold
        )?;
        for r in &self.runs {
            writeln!(
                f,
                "  seed {:<4} train {:>6}  test {:>6}  OOS {:>5}",
                r.seed, r.n_train, r.n_test, r.n_oos
            )?;
        }
        writeln!(
            f,
            "  (mean ± half range over {} seeds; ratio = engine / baseline)",
            self.runs.len()
        )?;
        writeln!(
            f,
            "  {:<26} {:>17} {:>17} {:>17} {:>7}",
            "", "engine (serve)", "direct (old)", "TF-IDF+LR", "ratio"
        )?;
        let systems: [fn(&SeedRun) -> Option<&Scores>; 3] = [
            |r| Some(&r.engine),
            |r| r.direct.as_ref(),
            |r| Some(&r.baseline),
        ];
        for (name, fig, raw) in FIGURES {
            let cells: Vec<Option<(f64, f64)>> =
                systems.iter().map(|s| self.stat(*s, *fig)).collect();
            if cells.iter().all(Option::is_none) {
                continue;
            }
            write!(f, "  {name:<26}")?;
            for c in &cells {
                match c {
                    Some((m, s)) if *raw => write!(f, " {:>17}", format!("{m:.1} ± {s:.1}"))?,
                    Some((m, s)) => write!(f, " {:>17}", format!("{m:.4} ± {s:.4}"))?,
                    None => write!(f, " {:>17}", "—")?,
                }
            }
            match (cells[0], cells[2]) {
                (Some((e, _)), Some((b, _))) if b > 0.0 && !raw => writeln!(f, " {:>7.3}", e / b)?,
                _ => writeln!(f)?,
            }
        }
        Ok(())
    }
}
