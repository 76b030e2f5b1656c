//! The simulated caller against a fake bot server on both transports: playback-clock mark
//! echoes, clear, latency, DTMF, hang-ups and protocol problems. Uses the real espeak-ng voice
//! for the caller; skips (with a message) when the speech models are unavailable.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{caller_voice, FakeBot, FakeConfig};
use sb_testkit::{place_call, CallOptions, HungUpBy, Platform, Script, Voices};

const BOTH: [Platform; 2] = [Platform::Twilio, Platform::Vonage];

fn voices() -> Option<Voices> {
    caller_voice().map(|tts| Voices::new(tts, None))
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_are_echoed_only_after_their_audio_played() {
    let Some(voices) = voices() else { return };
    for platform in BOTH {
        let mut cfg = FakeConfig::new(platform);
        cfg.greeting_ms = Some(1500);
        cfg.reply_ms = 1000;
        let mut bot = FakeBot::spawn(cfg).await;
        let mut opts = CallOptions::new(platform, bot.url.clone());
        opts.custom_parameters
            .insert("agent".into(), "restaurant".into());
        let report = place_call(opts, Script::from_says(&["I would like a table"]), &voices).await;
        let log = bot.next_log().await;
        assert!(report.ok, "{platform:?}: {report}");
        assert_eq!(log.decode_errors, Vec::<String>::new(), "{platform:?}");
        let params = &log.start.as_ref().expect("start").1;
        assert_eq!(params.get("agent").map(String::as_str), Some("restaurant"));
        assert_eq!(log.replies.len(), 2, "greeting + one reply: {log:?}");
        for reply in &log.replies {
            let echo = log
                .mark_echoes
                .iter()
                .find(|(_, n)| *n == reply.mark)
                .unwrap_or_else(|| panic!("{platform:?}: mark {} never echoed", reply.mark));
            // The whole reply was sent at once; its mark may come back only once it played.
            let waited = ms(echo.0 - reply.sent_at);
            let dur = reply.audio_ms as i64;
            assert!(
                waited >= dur - 30 && waited <= dur + 300,
                "{platform:?}: mark {} echoed {waited} ms after {dur} ms of audio",
                reply.mark
            );
        }
        let g = report.greeting.as_ref().expect("greeting reported");
        assert!(g.latency_ms.is_some_and(|l| l < 500), "{report}");
        assert!((1400..=1600).contains(&g.bot_audio_ms), "{report}");
        assert_eq!(report.turns.len(), 1);
        assert!(
            (900..=1100).contains(&report.turns[0].bot_audio_ms),
            "{report}"
        );
        assert_eq!(report.hung_up_by, HungUpBy::Caller);
        assert!(
            log.stopped || platform == Platform::Vonage,
            "Twilio caller sends stop"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_runs_from_end_of_caller_audio_to_first_bot_audio() {
    let Some(voices) = voices() else { return };
    for platform in [Platform::Vonage, Platform::Twilio] {
        let mut cfg = FakeConfig::new(platform);
        cfg.think_ms = 300;
        cfg.lead_silence_ms = 200; // silent audio first: latency counts the first *voiced* audio
        cfg.endpoint_ms = 400;
        let mut bot = FakeBot::spawn(cfg).await;
        let mut script = Script::from_says(&["Hello, is this the restaurant?"]);
        script.call.greeting = false;
        let opts = CallOptions::new(platform, bot.url.clone());
        let report = place_call(opts, script, &voices).await;
        let log = bot.next_log().await;
        assert!(report.ok, "{report}");
        let latency = report.turns[0].latency_ms.expect("reply latency") as i64;
        // The bot's own view: last voiced caller frame → reply sent; plus the silent lead-in.
        assert_eq!(
            log.utterance_ends.len(),
            1,
            "{platform:?}: one utterance: {log:?}\n{report}"
        );
        let end = log.utterance_ends[0];
        let server_view = ms(log.replies[0].sent_at - end) + 200;
        assert!(
            (latency - server_view).abs() <= 80,
            "{platform:?}: caller measured {latency} ms, server-side {server_view} ms"
        );
        // Endpointing (400) + thinking (300) + lead-in (200).
        assert!(
            (880..=1200).contains(&latency),
            "{platform:?}: {latency} ms"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_drops_the_unplayed_queue() {
    let Some(voices) = voices() else { return };
    for platform in BOTH {
        let mut cfg = FakeConfig::new(platform);
        cfg.greeting_ms = Some(6000);
        cfg.clear_on_barge_in = true;
        let mut bot = FakeBot::spawn(cfg).await;
        let script = Script::from_toml_str(
            "[call]\ngreeting = true\n[[turn]]\nsay = \"Sorry to interrupt\"\nbarge_in_after_ms = 800\n",
        )
        .expect("script");
        let opts = CallOptions::new(platform, bot.url.clone());
        let report = place_call(opts, script, &voices).await;
        let log = bot.next_log().await;
        assert!(report.ok, "{platform:?}: {report}");
        let clear = *log.clears_sent.first().expect("the bot cleared");
        let g = report.greeting.as_ref().expect("greeting");
        assert!(g.bot_cleared && g.interrupted, "{report}");
        // About 800 ms played before the caller spoke; the other ~5 s were dropped.
        assert!((700..=1500).contains(&g.bot_audio_ms), "{report}");
        match platform {
            // Twilio hands back the pending mark at once when its buffer is cleared.
            Platform::Twilio => {
                let echo = log.mark_echoes.iter().find(|(_, n)| n == "greeting");
                let echo = echo.expect("greeting mark returned on clear").0;
                assert!(
                    ms(echo - clear) < 200,
                    "mark came {} ms after clear",
                    ms(echo - clear)
                );
            }
            // Vonage confirms the clear.
            Platform::Vonage => {
                let c = *log
                    .cleared_confirmations
                    .first()
                    .expect("websocket:cleared");
                assert!(ms(c - clear) < 200);
            }
        }
        // The reply to the interruption followed and was heard in full.
        assert!(report.turns[0].latency_ms.is_some(), "{report}");
        assert!(
            (500..=700).contains(&report.turns[0].bot_audio_ms),
            "{report}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_is_sent_and_answered() {
    let Some(voices) = voices() else { return };
    for platform in BOTH {
        let mut cfg = FakeConfig::new(platform);
        cfg.think_ms = 250;
        let mut bot = FakeBot::spawn(cfg).await;
        let script = Script::from_toml_str("[[turn]]\ndtmf = \"12#\"\n").expect("script");
        let report = place_call(CallOptions::new(platform, bot.url.clone()), script, &voices).await;
        let log = bot.next_log().await;
        assert!(report.ok, "{report}");
        let digits: String = log.digits.iter().map(|d| d.1).collect();
        assert_eq!(digits, "12#", "{platform:?}");
        assert_eq!(report.turns[0].caller, "[dtmf 12#]");
        let latency = report.turns[0].latency_ms.expect("reply to #") as i64;
        assert!((240..=400).contains(&latency), "{platform:?}: {latency} ms");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_from_the_server_is_reported_not_fatal() {
    let Some(voices) = voices() else { return };
    for platform in BOTH {
        let mut cfg = FakeConfig::new(platform);
        cfg.garbage = true;
        let mut bot = FakeBot::spawn(cfg).await;
        let mut script = Script::from_says(&["Hello"]);
        script.call.greeting = false;
        let report = place_call(CallOptions::new(platform, bot.url.clone()), script, &voices).await;
        let _ = bot.next_log().await;
        assert!(!report.ok, "{report}");
        let all = report.problems.join("\n");
        assert!(all.contains("undecodable message from the server"), "{all}");
        match platform {
            Platform::Twilio => {
                assert!(all.contains("\"this is not json\""), "{all}");
                assert!(all.contains("binary frame of 3 bytes"), "{all}");
            }
            Platform::Vonage => {
                assert!(all.contains("frame of 100 bytes, expected 640"), "{all}");
                assert!(
                    all.contains("unknown event \\\"dance\\\"") || all.contains("dance"),
                    "{all}"
                );
            }
        }
        // The conversation itself still worked.
        assert!(report.turns[0].latency_ms.is_some(), "{report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_hang_up_after_its_goodbye_meets_the_expectation() {
    let Some(voices) = voices() else { return };
    for platform in BOTH {
        let mut cfg = FakeConfig::new(platform);
        cfg.hangup_after_reply = Some(1);
        let mut bot = FakeBot::spawn(cfg).await;
        let script = Script::from_toml_str("[[turn]]\nsay = \"Goodbye\"\nexpect_hangup = true\n")
            .expect("script");
        let report = place_call(CallOptions::new(platform, bot.url.clone()), script, &voices).await;
        let _ = bot.next_log().await;
        assert!(report.ok, "{report}");
        assert_eq!(report.hung_up_by, HungUpBy::Bot);
        assert_eq!(report.turns[0].expectation, Some(true), "{report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_for_cut_off_goodbyes_missing_hangups_and_early_hangups() {
    let Some(voices) = voices() else { return };
    let platform = Platform::Twilio;
    // Closing right after sending audio cuts the goodbye off.
    let mut cfg = FakeConfig::new(platform);
    cfg.hangup_after_reply = Some(1);
    cfg.hangup_without_waiting = true;
    cfg.reply_ms = 2000;
    let mut bot = FakeBot::spawn(cfg).await;
    let mut script = Script::from_says(&["Goodbye", "Are you there?"]);
    script.call.greeting = false;
    let report = place_call(CallOptions::new(platform, bot.url.clone()), script, &voices).await;
    let _ = bot.next_log().await;
    assert_eq!(report.hung_up_by, HungUpBy::Bot);
    let all = report.problems.join("\n");
    assert!(
        all.contains("hung up with") && all.contains("unplayed"),
        "{all}"
    );
    assert!(all.contains("the bot hung up before turn 2 of 2"), "{all}");
    assert!(!report.ok);

    // A bot that never hangs up fails `expect_hangup`.
    let mut bot = FakeBot::spawn(FakeConfig::new(platform)).await;
    let script =
        Script::from_toml_str("[[turn]]\nsay = \"Bye\"\nexpect_hangup = true\n").expect("script");
    let mut opts = CallOptions::new(platform, bot.url.clone());
    opts.hangup_timeout = Duration::from_millis(500);
    let report = place_call(opts, script, &voices).await;
    let _ = bot.next_log().await;
    assert_eq!(report.turns[0].expectation, Some(false), "{report}");
    assert_eq!(report.hung_up_by, HungUpBy::Caller);
    assert!(!report.ok);
    assert!(
        report.to_string().contains("✗ expected the bot to hang up"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_hangs_up_by_script() {
    let Some(voices) = voices() else { return };
    for platform in BOTH {
        let mut bot = FakeBot::spawn(FakeConfig::new(platform)).await;
        let script =
            Script::from_toml_str("[[turn]]\nsay = \"Never mind\"\n[[turn]]\nhangup = true\n")
                .expect("script");
        let report = place_call(CallOptions::new(platform, bot.url.clone()), script, &voices).await;
        let log = bot.next_log().await;
        assert!(report.ok, "{platform:?}: {report}");
        assert_eq!(report.hung_up_by, HungUpBy::Caller);
        assert_eq!(report.turns.len(), 1);
        assert_eq!(log.replies.len(), 1);
        assert_eq!(
            log.mark_echoes.len(),
            1,
            "the reply played before the hang-up"
        );
        assert_eq!(
            log.stopped,
            platform == Platform::Twilio,
            "Twilio says stop, Vonage closes"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_hold_both_sides() {
    let Some(voices) = voices() else { return };
    let mut cfg = FakeConfig::new(Platform::Vonage);
    cfg.greeting_ms = Some(500);
    let mut bot = FakeBot::spawn(cfg).await;
    let dir = std::env::temp_dir().join(format!("sb-testkit-rec-{}", std::process::id()));
    let mut opts = CallOptions::new(Platform::Vonage, bot.url.clone());
    opts.record_dir = Some(dir.clone());
    let report = place_call(opts, Script::from_says(&["Hi"]), &voices).await;
    let _ = bot.next_log().await;
    assert!(report.ok, "{report}");
    assert_eq!(report.recordings.len(), 2);
    let bot_wav =
        sb_audio::read_wav(&std::fs::read(&report.recordings[1]).expect("bot wav")).expect("wav");
    assert_eq!(bot_wav.rate, 16_000);
    let pcm = sb_audio::f32_to_i16(&bot_wav.samples);
    // Greeting (500 ms) and reply (600 ms) of tone, silence between.
    let voiced_ms = pcm
        .chunks(160)
        .filter(|w| sb_testkit::playback::is_voiced(w))
        .count() as u64
        * 10;
    assert!((1000..=1200).contains(&voiced_ms), "{voiced_ms} ms voiced");
    let caller_wav = std::fs::read(&report.recordings[0]).expect("caller wav");
    let caller = sb_audio::read_wav(&caller_wav).expect("wav");
    assert!(caller.samples.len() as u64 >= report.duration_ms * 16 * 8 / 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn unreachable_server_is_a_problem_not_a_panic() {
    // No audio is needed for a DTMF script, so this runs without models.
    struct NoVoice;
    impl sb_speech::tts::Tts for NoVoice {
        fn synthesize(
            &self,
            _: &str,
            _: &mut dyn FnMut(sb_speech::tts::AudioChunk) -> bool,
        ) -> Result<(), sb_speech::SpeechError> {
            Err(sb_speech::SpeechError::Other(
                "no voice in this test".into(),
            ))
        }
        fn sample_rate(&self) -> u32 {
            16_000
        }
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let voices = Voices::new(Arc::new(NoVoice), None);
    let script = Script::from_toml_str("[[turn]]\ndtmf = \"1\"\n").expect("script");
    let report = place_call(
        CallOptions::new(Platform::Twilio, format!("ws://{addr}/twilio/media")),
        script,
        &voices,
    )
    .await;
    assert!(!report.ok);
    assert!(
        report.problems[0].starts_with("cannot connect to ws://"),
        "{report}"
    );
    // A voice that fails is reported too.
    let report = place_call(
        CallOptions::new(Platform::Twilio, format!("ws://{addr}/twilio/media")),
        Script::from_says(&["hi"]),
        &voices,
    )
    .await;
    assert!(
        report.problems[0].contains("no voice in this test"),
        "{report}"
    );
}
