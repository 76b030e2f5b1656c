//! The bot's words through the caller's ASR (`expect_bot_contains`), and the voice benchmark
//! against the fake bot. Real espeak-ng voices and Whisper; skipped without the models.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{caller_voice, missing, models, FakeBot, FakeConfig};
use sb_speech::asr::{Asr, WhisperAsr};
use sb_speech::models::ModelStore;
use sb_speech::tts::{PiperOptions, PiperTts};
use sb_testkit::{bench_voice, place_call, BenchOptions, CallOptions, Platform, Script, Voices};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expectations_are_checked_against_what_the_bot_said() {
    let (Some(paths), Some(tts)) = (models(), caller_voice()) else {
        return;
    };
    let cache = ModelStore::from_env().root.join("cache");
    let asr: Arc<dyn Asr> = match WhisperAsr::load(&paths.whisper_dir, &cache, 2) {
        Ok(a) => Arc::new(a),
        Err(e) => {
            let Some(a) = missing(&format!(
                "whisper unavailable ({e}); run `target/release/switchboard models fetch`"
            )) else {
                return;
            };
            a
        }
    };
    // The bot speaks with the real bot voice (Piper), the caller with espeak-ng. Piper's noise
    // is off so every run hears the same audio (with it, tiny.en heard "book" as "both" once).
    let opts = PiperOptions {
        noise: Some((0.0, 0.0)),
        ..PiperOptions::default()
    };
    let bot_voice = PiperTts::load_with(&paths, opts).expect("piper voice");
    let mut cfg = FakeConfig::new(Platform::Twilio);
    cfg.reply_texts = vec![
        "For whom should I book the table?".into(),
        "Table booked for Tanya. Thank you!".into(),
    ];
    cfg.bot_voice = Some(Arc::new(bot_voice));
    cfg.hangup_after_reply = Some(2);
    let mut bot = FakeBot::spawn(cfg).await;
    let script = Script::from_toml_str(
        r#"
[[turn]]
say = "I'd like to book a table at ten"
expect_bot_contains = "book the table"
[[turn]]
say = "Tanya"
expect_bot_contains = "a table for two"
expect_hangup = true
"#,
    )
    .expect("script");
    let voices = Voices::new(tts, Some(asr));
    let report = place_call(
        CallOptions::new(Platform::Twilio, bot.url.clone()),
        script,
        &voices,
    )
    .await;
    let _ = bot.next_log().await;
    let text = |i: usize| {
        report.turns[i]
            .bot_text
            .clone()
            .unwrap_or_default()
            .to_lowercase()
    };
    // tiny.en on 8 kHz hears "for whom" as "or home" now and then: check the robust words.
    assert!(text(0).contains("book the table"), "{report}");
    assert!(text(1).contains("book"), "{report}");
    assert_eq!(report.turns[0].expectation, Some(true), "{report}");
    // The second reply does not say "a table for two": the expectation fails and says why.
    assert_eq!(report.turns[1].expectation, Some(false), "{report}");
    assert!(!report.ok);
    let shown = report.to_string();
    assert!(shown.contains("caller> Tanya"), "{shown}");
    assert!(
        shown.contains("✗ expected the bot to say \"a table for two\""),
        "{shown}"
    );
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["hung_up_by"], "bot");
    assert_eq!(json["turns"][0]["expectation"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn benchmark_reports_levels_percentiles_and_plot() {
    let Some(tts) = caller_voice() else { return };
    let mut cfg = FakeConfig::new(Platform::Vonage);
    cfg.greeting_ms = Some(300);
    cfg.think_ms = 100;
    cfg.reply_ms = 300;
    cfg.hangup_after_reply = Some(1);
    let bot = FakeBot::spawn(cfg).await;
    let dir = std::env::temp_dir().join(format!("sb-testkit-bench-{}", std::process::id()));
    let script = Script::from_toml_str(
        "[call]\ngreeting = true\n[[turn]]\nsay = \"Book it\"\nexpect_hangup = true\n",
    )
    .expect("script");
    let mut opts = BenchOptions::new(Platform::Vonage, bot.url.clone(), script);
    opts.levels = vec![1, 3];
    opts.duration_per_level = Duration::from_secs(3);
    opts.out_dir = Some(dir.clone());
    opts.p95_threshold_ms = 1000;
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    opts.progress = Some(Arc::new(move |l: &str| {
        sink.lock().unwrap().push(l.to_owned())
    }));
    let voices = Voices::new(tts, None);
    let report = bench_voice(opts, &voices).await.expect("bench");
    assert_eq!(report.levels.len(), 2);
    for level in &report.levels {
        assert!(level.calls_completed >= level.concurrent, "{level:?}");
        assert_eq!(level.calls_with_problems, 0, "{level:?}");
        assert_eq!(
            level.reply.count, level.calls_completed,
            "one reply per call"
        );
        assert_eq!(level.greeting.count, level.calls_completed);
        // Endpointing 400 ms + thinking 100 ms on an idle box.
        let p95 = level.reply.p95.expect("p95");
        assert!((450..=900).contains(&p95), "{level:?}");
        assert!(level.reply.p50 <= level.reply.p95 && level.reply.p95 <= level.reply.p99);
        assert!(level.cpu_per_call.is_some_and(|c| c > 0.0), "{level:?}");
        assert!(level.server_rss_kib.is_some_and(|r| r > 0));
        assert!(level.within_threshold);
    }
    assert_eq!(report.max_concurrent_within_threshold, Some(3));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("bench-voice.json")).expect("json file"))
            .expect("valid json");
    assert_eq!(json["levels"][1]["concurrent"], 3);
    let svg = std::fs::read_to_string(dir.join("bench-voice.svg")).expect("svg file");
    assert!(svg.starts_with("<svg") && svg.contains("p95 budget 1000 ms"));
    assert_eq!(
        svg.matches("<polyline").count(),
        4,
        "p50, p95, p99, greeting p95"
    );
    assert!(lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("level 3:")));
    let _ = std::fs::remove_dir_all(&dir);
}
