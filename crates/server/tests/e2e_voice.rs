//! End to end by voice: the real server (Whisper ASR, Piper TTS, the restaurant agent) and a
//! simulated Twilio and Vonage caller speaking with CMU Flite voices (not the bot's). Run with
//! `--release`; the models are fetched on first use.

mod phone_support;

use phone_support::{PhoneServer, QUIET_VOICE};
use sb_speech::models::ModelStore;
use sb_speech::tts::Tts;
use sb_testkit::{place_call, CallOptions, HungUpBy, Platform, Script, Voices};
use std::sync::Arc;
use switchboard::sim_cli::SpokenLikeAPerson;

/// The reference request in one breath.
const BOOKING: &str = "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya";

/// The same booking in three short answers (slot filling asks for the date, then the time).
const SCRIPT: &str = r#"
[call]
greeting = true
[[turn]]
say = "I'd like to book a table for Tanya"
[[turn]]
say = "January ninth, twenty twenty-two"
[[turn]]
say = "ten a.m."
expect_hangup = true
"#;

/// The reference request in one breath, read like a person would ("ten a m on January ninth"),
/// over Vonage's 16 kHz L16 stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_a_table_in_one_sentence_over_vonage() {
    run_booking(&one_breath(), 1, "flite:rms", &[Platform::Vonage]).await;
}

/// The same booking over three turns of slot filling, with another speaker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_a_table_by_answering_the_prompts_over_vonage() {
    run_booking(SCRIPT, 3, "flite:slt", &[Platform::Vonage]).await;
}

/// Twilio's 8 kHz μ-law: half the band Whisper tiny.en hears, with a third speaker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_a_table_in_one_sentence_over_twilio() {
    run_booking(&one_breath(), 1, "flite:awb", &[Platform::Twilio]).await;
}

fn one_breath() -> String {
    format!("[call]\ngreeting = true\n[[turn]]\nsay = \"{BOOKING}\"\nexpect_hangup = true\n")
}

async fn run_booking(
    script: &str,
    caller_turns: usize,
    voice: &'static str,
    platforms: &[Platform],
) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "switchboard=info".into()))
        .with_test_writer()
        .try_init();
    let (asr, tts, caller) = tokio::task::spawn_blocking(move || {
        let (asr, tts) = switchboard::phone::setup::load_models_with(
            2,
            "en",
            Some("Europe/London".into()),
            QUIET_VOICE,
        )
        .expect("speech models");
        let paths = ModelStore::from_env().paths().expect("model paths");
        let caller: Arc<dyn Tts> =
            Arc::new(SpokenLikeAPerson::load(&paths, voice).expect("caller voice"));
        (asr, tts, caller)
    })
    .await
    .expect("load");
    let s = PhoneServer::start("[phone]\nasr_workers = 1\nasr_threads = 2\n[connectors.default]\nspeech_hints = [\"Tanya\", \"book a table\", \"January\", \"a.m.\"]\n", asr, tts).await;
    let voices = Voices::new(caller, None);
    let script = Script::from_toml_str(script).expect("script");
    for &platform in platforms {
        let mut opts = CallOptions::new(platform, s.ws_url(platform));
        opts.reply_timeout = std::time::Duration::from_secs(15);
        let report = place_call(opts, script.clone(), &voices).await;
        eprintln!("{report}");
        let (_, heard) = s.get_json(&format!("/v1/calls/{}", report.call_id)).await;
        eprintln!(
            "{}",
            serde_json::to_string_pretty(&heard).unwrap_or_default()
        );
        assert!(report.problems.is_empty(), "{platform:?}: {report}");
        assert_eq!(report.hung_up_by, HungUpBy::Bot, "{report}");
        let greeting = report.greeting.as_ref().expect("greeting");
        assert!(
            greeting.latency_ms.is_some() && greeting.bot_audio_ms > 3_000,
            "{report}"
        );
        assert_eq!(report.turns.len(), caller_turns);
        assert!(
            report.turns.iter().all(|t| t.latency_ms.is_some()),
            "{report}"
        );

        let (status, call) = s.get_json(&format!("/v1/calls/{}", report.call_id)).await;
        assert_eq!(status, 200, "{call}");
        assert_eq!(call["status"], "completed");
        assert_eq!(
            call["transport"],
            if platform == Platform::Twilio {
                "twilio"
            } else {
                "vonage"
            }
        );
        let turns = call["turns"].as_array().expect("turns");
        assert_eq!(turns.len(), caller_turns + 1, "{call}");
        assert_eq!(turns[0]["intent"], "Default Welcome Intent");
        assert_eq!(
            turns[0]["botText"],
            "Welcome to our Demonstration Restaurant. When and for whom would you like to book a table?"
        );
        let t = &turns[caller_turns];
        eprintln!(
            "caller heard as: {} (confidence {})",
            t["callerText"], t["asrConfidence"]
        );
        assert_eq!(t["inputKind"], "speech");
        assert_eq!(t["intent"], "Table Booker", "{t}");
        // tiny.en spells the caller's "Tanya" several ways over the phone line, depending on how
        // the 20 ms frames fall ("Tamiya", "Tonya" over Twilio): the engine takes each as the
        // name (unlisted names after "for" count, as in Dialogflow).
        let name = t["parameters"]["person"]["name"]
            .as_str()
            .unwrap_or_default();
        assert!(["Tanya", "Tanja", "Tonya", "Tamiya"].contains(&name), "{t}");
        let bot = t["botText"].as_str().unwrap_or_default();
        // @sys.time is today's date at the time heard (Dialogflow's format).
        assert!(
            bot.starts_with(&format!("Table booked for {name} at ")),
            "{bot}"
        );
        assert!(bot.contains("T10:00:00"), "{bot}");
        assert!(bot.contains("on 2022-01-09T12:00:00"), "{bot}");
        assert!(bot.ends_with("Thank you!"), "{bot}");
        let timings = &t["timings"];
        assert!(timings["replyLatencyMs"].as_u64().is_some(), "{t}");
        assert_eq!(
            t["parameters"]["date"].as_str().map(|d| &d[..10]),
            Some("2022-01-09"),
            "{t}"
        );
        eprintln!("{platform:?} last turn timings: {timings}");
    }
    let metrics = s.metrics().await;
    for &platform in platforms {
        let name = if platform == Platform::Twilio {
            "twilio"
        } else {
            "vonage"
        };
        let needle =
            format!("switchboard_calls_total{{transport=\"{name}\",outcome=\"completed\"}} 1\n");
        assert!(metrics.contains(&needle), "missing {needle} in\n{metrics}");
    }
    let count = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}_count ")))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    for stage in ["reply_latency", "asr", "endpointing"] {
        let n = count(&format!("switchboard_turn_{stage}_seconds"));
        assert!(
            n >= platforms.len() * caller_turns,
            "{stage}: {n} observations\n{metrics}"
        );
    }
    for line in metrics
        .lines()
        .filter(|l| l.contains("_sum") || l.contains("_count"))
    {
        eprintln!("{line}");
    }
    s.stop().await;
}
