use super::*;
use std::path::Path;

/// 300-per-intent guard thresholds (measured figures − 0.01).
const THRESH_300_ACC: f64 = 0.985;
const THRESH_300_F1: f64 = 0.937;

/// The shared datasets sit beside the repository (`../shared/datasets/`).
fn shared_dataset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets")
        .join(name)
}

/// The Snips-2017 folder (`SNIPS_DIR` overrides). A missing dataset fails the test; only
/// `SWITCHBOARD_TEST_ALLOW_SKIP=1`, a developer opt-out, turns that into a skip.
fn dataset_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SNIPS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| shared_dataset("snips-2017"));
    if dir.is_dir() {
        return Some(dir);
    }
    let msg = format!(
        "Snips-2017 dataset not found at {} (set SNIPS_DIR, or check out ../shared beside the repository)",
        dir.display()
    );
    if std::env::var("SWITCHBOARD_TEST_ALLOW_SKIP").as_deref() == Ok("1") {
        eprintln!("SKIPPED: {msg}");
        return None;
    }
    panic!("{msg}");
}

/// A one-seed run of the served path only, on Snips with `per_intent` training queries.
fn served_config(per_intent: usize, seed: u64) -> Option<RunConfig> {
    let mut cfg = RunConfig::new(dataset_dir()?);
    cfg.train_per_intent = Some(per_intent);
    cfg.seeds = vec![seed];
    cfg.skip_direct = true;
    Some(cfg)
}

/// The figures users are quoted, on the path they run: Snips at 70 training queries per
/// intent, seed 1, written as a DF ES export, imported and scored through `Engine`. Measured
/// (release): intent 0.9843, slot F1 0.8853, TF-IDF + LR 0.9743; the floors leave 0.01.
#[test]
fn snips_70_served_path_regression_guard() {
    let Some(cfg) = served_config(70, 1) else {
        return;
    };
    let r = run(&cfg).unwrap();
    let s = &r.runs[0];
    assert_eq!((s.n_train, s.n_test), (490, 700));
    assert!(
        s.engine.accuracy >= 0.974,
        "intent accuracy {}",
        s.engine.accuracy
    );
    assert!(
        s.engine.accuracy >= s.baseline.accuracy - 0.01,
        "engine {} below TF-IDF + LR {}",
        s.engine.accuracy,
        s.baseline.accuracy
    );
    let f1 = s.engine.slots.map_or(0.0, |x| x.f1);
    assert!(f1 >= 0.875, "slot F1 {f1}");
}

/// Measured: intent 0.9871, slot F1 0.8877; thresholds are these − 0.01. Slow in the
/// unoptimised dev profile (~90 s): run with
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
    assert_eq!(
        r.errors.len(),
        r.n_test - r.per_intent.iter().map(|i| i.correct).sum::<usize>()
    );
    assert!(
        r.intent_accuracy >= 0.977,
        "intent accuracy {}",
        r.intent_accuracy
    );
    assert!(r.slot_f1 >= 0.877, "slot F1 {}", r.slot_f1);
}

#[test]
#[ignore = "needs --release; see snips_70_per_intent_regression_guard"]
fn snips_300_per_intent_regression_guard() {
    let Some(dir) = dataset_dir() else { return };
    let r = run_snips(&EvalConfig {
        dataset_dir: dir,
        train_per_intent: 300,
    })
    .unwrap();
    println!("{r}");
    assert!(
        r.intent_accuracy >= THRESH_300_ACC,
        "intent accuracy {}",
        r.intent_accuracy
    );
    assert!(r.slot_f1 >= THRESH_300_F1, "slot F1 {}", r.slot_f1);
}

/// The variants behind the defaults of [`EvalOptions`]: printed for comparison, not asserted.
#[test]
#[ignore = "needs --release; see snips_70_per_intent_regression_guard"]
fn snips_70_variants() {
    let Some(dir) = dataset_dir() else { return };
    let cfg = EvalConfig {
        dataset_dir: dir,
        train_per_intent: 70,
    };
    let sys: Vec<String> = [
        "@sys.date-time",
        "@sys.number",
        "@sys.geo-city",
        "@sys.geo-country",
        "@sys.geo-state",
    ]
    .map(String::from)
    .to_vec();
    for (gaz, hints) in [(true, vec![]), (false, vec![]), (true, sys)] {
        let opts = EvalOptions {
            classifier_gazetteers: gaz,
            sys_hints: hints,
        };
        let r = run_snips_with(&cfg, &opts).unwrap();
        println!(
            "{opts:?}: intent {:.4}  slot F1 {:.4} (macro {:.4})  p50 {:.0} µs  p99 {:.0} µs",
            r.intent_accuracy, r.slot_f1, r.slot_f1_macro, r.parse_p50_us, r.parse_p99_us
        );
    }
}

#[test]
fn missing_dataset_is_an_error() {
    let r = run_snips(&EvalConfig {
        dataset_dir: "/nonexistent/snips".into(),
        train_per_intent: 70,
    });
    assert!(r.is_err());
}

fn q(text: &str, spans: &[(&str, &str)]) -> Query {
    let mut out = Vec::new();
    let mut from = 0;
    for (slot, value) in spans {
        let start = from + text[from..].find(value).unwrap();
        out.push(crate::tagger::SlotSpan {
            start,
            end: start + value.len(),
            slot: slot.to_string(),
        });
        from = start + value.len();
    }
    Query {
        text: text.into(),
        spans: out,
    }
}

#[test]
fn export_builder_output_loads_through_the_importer() {
    let dir = tempfile::tempdir().unwrap();
    let intents = vec![
        (
            "BookTable".to_string(),
            vec![
                q(
                    "book a table at Nopa for two",
                    &[("restaurant", "Nopa"), ("party", "two")],
                ),
                q("a table at Zuni please", &[("restaurant", "Zuni")]),
                q(
                    "book Nopa or Zuni",
                    &[("restaurant", "Nopa"), ("restaurant", "Zuni")],
                ),
            ],
        ),
        (
            "GetWeather".to_string(),
            vec![
                q("weather in Paris", &[("city", "Paris")]),
                q("is it raining", &[]),
            ],
        ),
    ];
    export::write_export(dir.path(), &intents, &export::ExportOptions::default()).unwrap();
    let agent = crate::import::load(dir.path()).unwrap();
    let names: Vec<&str> = agent.intents.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["BookTable", export::FALLBACK_INTENT, "GetWeather"]);
    let fallback = agent.intent_by_name(export::FALLBACK_INTENT).unwrap();
    assert!(fallback.is_fallback && fallback.training_phrases.is_empty());

    let book = agent.intent_by_name("BookTable").unwrap();
    assert_eq!(book.training_phrases.len(), 3);
    assert_eq!(
        book.training_phrases[0].text(),
        "book a table at Nopa for two"
    );
    let part = &book.training_phrases[0].parts[1];
    assert_eq!(part.text, "Nopa");
    assert_eq!(part.alias.as_deref(), Some("restaurant"));
    assert_eq!(part.entity.as_deref(), Some("@restaurant"));
    let p: Vec<(&str, &str, bool)> = book
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.data_type.as_str(), p.is_list))
        .collect();
    assert_eq!(
        p,
        [
            ("party", "@party", false),
            ("restaurant", "@restaurant", true)
        ]
    );

    let ent = agent.entity("restaurant").unwrap();
    assert!(ent.automated_expansion);
    assert_eq!(ent.kind, crate::agent::EntityKind::Map);
    let vals: Vec<(&str, &[String])> = ent
        .entries
        .iter()
        .map(|e| (e.value.as_str(), e.synonyms.as_slice()))
        .collect();
    assert_eq!(
        vals,
        [
            ("Nopa", &["Nopa".to_string()][..]),
            ("Zuni", &["Zuni".to_string()][..])
        ]
    );
    assert!(agent.entity("city").is_some_and(|e| e.automated_expansion));
    // The engine serve uses trains on it.
    let engine = crate::engine::Engine::new(agent).unwrap();
    let top = engine.rank(
        "weather in Paris",
        &Default::default(),
        &crate::sysent::SysContext::reference(chrono_tz::UTC),
    );
    assert_eq!(engine.intent(top[0].intent).name, "GetWeather");
}

fn toy_pool(per_intent: usize) -> split::Labelled {
    let topics = [
        ("Weather", ["weather", "rain", "sunny", "forecast"]),
        ("Music", ["play", "song", "album", "music"]),
        ("Book", ["book", "table", "restaurant", "reserve"]),
    ];
    topics
        .iter()
        .map(|(name, words)| {
            let qs = (0..per_intent)
                .map(|i| Query {
                    text: format!(
                        "please {} the {} {} now {i}",
                        words[i % 4],
                        words[(i + 1) % 4],
                        words[(i + 2) % 4]
                    ),
                    spans: Vec::new(),
                })
                .collect();
            (name.to_string(), qs)
        })
        .collect()
}

#[test]
fn seeded_splits_are_reproducible_and_differ_across_seeds() {
    let pool = toy_pool(20);
    let texts = |d: &split::Labelled| -> Vec<String> {
        d.iter()
            .flat_map(|(_, q)| q.iter().map(|q| q.text.clone()))
            .collect()
    };
    let (tr1, te1) = split::stratified(&pool, 0.25, 1);
    let (tr1b, te1b) = split::stratified(&pool, 0.25, 1);
    let (tr2, te2) = split::stratified(&pool, 0.25, 2);
    assert_eq!(texts(&te1), texts(&te1b));
    assert_eq!(texts(&tr1), texts(&tr1b));
    assert_ne!(texts(&te1), texts(&te2));
    // Stratified: 5 of 20 held out per intent, disjoint from training, nothing lost.
    assert!(te1.iter().all(|(_, q)| q.len() == 5));
    assert!(tr2.iter().all(|(_, q)| q.len() == 15));
    let train: std::collections::HashSet<_> = texts(&tr1).into_iter().collect();
    assert!(texts(&te1).iter().all(|t| !train.contains(t)));
    assert_eq!(train.len() + texts(&te1).len(), 60);
    // Samples: not the first N, seeded, and of the asked size.
    let s1 = split::sample(&pool, 4, 7);
    assert_eq!(texts(&s1), texts(&split::sample(&pool, 4, 7)));
    assert_ne!(texts(&s1), texts(&split::sample(&pool, 4, 8)));
    assert!(s1.iter().all(|(_, q)| q.len() == 4));
    let first: Vec<String> = pool[0].1.iter().take(4).map(|q| q.text.clone()).collect();
    assert_ne!(texts(&s1)[..4].to_vec(), first);
}

#[test]
fn baseline_scores_above_chance_on_a_tiny_dataset() {
    let (train, test) = split::stratified(&toy_pool(12), 0.25, 3);
    let s = paths::baseline_path(&train, &test, &[], 0.3);
    assert!(s.accuracy > 0.9, "accuracy {} (chance is 0.33)", s.accuracy);
    let p = baseline::TfidfLr::train(&[("rain today".into(), 0), ("play a song".into(), 1)], 2)
        .predict("will it rain");
    assert!(p[0] > p[1], "{p:?}");
}

#[test]
fn csv_reader_handles_quotes_commas_and_line_breaks() {
    let body =
        "text,category\nhello there,greet\n\"Well, \"\"hi\"\"\",greet\n\"two\nlines\",other\n";
    let d = split::parse_csv(body, "t.csv").unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].0, "greet");
    assert_eq!(d[0].1[1].text, "Well, \"hi\"");
    assert_eq!(d[1].1[0].text, "two lines");
    assert!(split::parse_csv("a,b\n1,2\n", "t.csv").is_err());
}

#[test]
fn eval_runs_end_to_end_on_a_small_slice() {
    let Some(mut cfg) = served_config(8, 5) else {
        return;
    };
    let csv = tempfile::NamedTempFile::new().unwrap();
    let mut body = String::from("text,category\n");
    for (t, c) in [
        ("what is my balance", "bank"),
        ("transfer money to savings", "bank"),
        ("freeze my card", "bank"),
    ] {
        body.push_str(&format!("{t},{c}\n"));
    }
    std::fs::write(csv.path(), body).unwrap();
    cfg.oos = Some(csv.path().to_path_buf());
    cfg.test_fraction = 0.5;
    let r = run(&cfg).unwrap();
    assert_eq!(r.runs.len(), 1);
    let s = &r.runs[0];
    // 3 out-of-domain rows × 0.5 rounds to 2 held out (at most all but one).
    assert_eq!((s.n_train, s.n_test, s.n_oos), (56, 700, 2));
    assert!(s.engine.accuracy > 0.6, "engine {}", s.engine.accuracy);
    assert!(
        s.baseline.accuracy > 0.4,
        "baseline {}",
        s.baseline.accuracy
    );
    assert!(s.engine.slots.is_some_and(|x| x.f1 > 0.0));
    assert!(s.engine.oos_recall.is_some() && s.direct.is_none());
    let text = r.to_string();
    assert!(
        text.contains("engine (serve)") && text.contains("TF-IDF+LR"),
        "{text}"
    );
}

/// `mlMinConfidence` is the one threshold of the served path: lowering it answers at least as
/// many in-scope queries and sends at most as many out-of-domain ones to the fallback.
#[test]
fn ml_min_confidence_trades_in_scope_against_oos_recall() {
    let Some(mut cfg) = served_config(10, 2) else {
        return;
    };
    cfg.oos = Some(shared_dataset("banking77"));
    cfg.max_oos = 200;
    let at = |t: f64| {
        let mut c = cfg.clone();
        c.ml_min_confidence = t;
        let r = run(&c).unwrap();
        assert!((f64::from(r.threshold) - t).abs() < 1e-6);
        r.runs[0].engine.clone()
    };
    let (strict, loose) = (at(0.6), at(0.05));
    assert!(loose.in_scope > strict.in_scope, "{loose:?} vs {strict:?}");
    assert!(
        loose.oos_recall.unwrap() < strict.oos_recall.unwrap(),
        "{loose:?} vs {strict:?}"
    );
    cfg.ml_min_confidence = 1.5;
    assert!(run(&cfg).is_err());
}
