use super::*;

const DATASET: &str = "/work/shared/datasets/snips-2017";

fn dataset_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SNIPS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DATASET));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: Snips-2017 dataset not found at {} (set SNIPS_DIR)",
            dir.display()
        );
        None
    }
}

/// Slow in the unoptimised dev profile (~90 s): run with
/// `cargo test -p sb-nlu --release --lib eval -- --ignored` (~5 s).
#[test]
#[ignore = "needs --release (about 90 s in the dev profile); see the doc comment"]
fn snips_70_per_intent_regression_guard() {
    let Some(dir) = dataset_dir() else { return };
    let r = run_snips(&EvalConfig {
        dataset_dir: dir,
        train_per_intent: 70,
    })
    .unwrap();
    println!("{r}");
    assert_eq!((r.n_train, r.n_test), (490, 700));
    assert!(
        r.intent_accuracy >= 0.965,
        "intent accuracy {}",
        r.intent_accuracy
    );
    assert!(r.slot_f1 >= 0.865, "slot F1 {}", r.slot_f1);
}

#[test]
fn missing_dataset_is_an_error() {
    let r = run_snips(&EvalConfig {
        dataset_dir: "/nonexistent/snips".into(),
        train_per_intent: 70,
    });
    assert!(r.is_err());
}
