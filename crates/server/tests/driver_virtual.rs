//! The one driver loop (socket ⇄ codec ⇄ session ⇄ speech) under tokio's paused clock, on
//! Twilio and Vonage: an in-memory socket, scripted recogniser and synthesiser behind the
//! `SpeechService` seam, the production VAD and pacing. Each call runs in milliseconds of wall
//! time and lands on the same virtual milliseconds every run.

mod virtual_driver;

use sb_call::AsrPriority;
use sb_testkit::virtual_call::voice::ScriptedTts;
use sb_testkit::virtual_call::{Seen, Timeline};
use sb_testkit::Platform;
use virtual_driver::{phone, Line};

const WELCOME: &str =
    "Welcome to our Demonstration Restaurant. When and for whom would you like to book a table?";
const BOOKING: &str = "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya";
/// End of turn after 700 ms of silence, no early recognition.
const CLASSIC: &str = "[connectors.default.endpoint]\nend_silence_ms = 700\nearly_silence_ms = 0\nlate_silence_ms = 0\n";
/// Early recognition at a 200 ms pause.
const EARLY: &str = "[connectors.default.endpoint]\nend_silence_ms = 700\nearly_silence_ms = 200\nlate_silence_ms = 0\n";
/// The scripted recogniser's delay.
const ASR_MS: u64 = 150;
/// Earshot decides on 16 ms frames that arrive in 20 ms messages: two of each.
const VAD_SLACK_MS: u64 = 72;

macro_rules! on_both_platforms {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(start_paused = true)]
                async fn twilio() {
                    super::$scenario(sb_testkit::Platform::Twilio).await
                }
                #[tokio::test(start_paused = true)]
                async fn vonage() {
                    super::$scenario(sb_testkit::Platform::Vonage).await
                }
            }
        )*
    };
}

on_both_platforms!(
    greeting_barge_in_and_the_answer,
    silence_reprompts_after_the_timeout_then_hangs_up,
    a_finished_sentence_is_answered_at_the_pause,
    a_guess_is_dropped_when_the_caller_goes_on,
    keys_ended_by_the_terminator_are_the_turn,
    pause_payload_plays_the_reply_then_ends_the_call_paused,
    handoff_payload_plays_the_reply_then_ends_the_call,
);

async fn call(p: Platform, connector: &str) -> (Line, std::sync::Arc<switchboard::phone::Phone>) {
    let t0 = tokio::time::Instant::now();
    let (phone, seen, book) = phone(connector, t0).await;
    (Line::start(p, phone.clone(), seen, book, t0).await, phone)
}

#[track_caller]
fn assert_at(t: &Timeline, what: &str, at: u64, lo: u64, slack: u64) {
    assert!(
        (lo..=lo + slack).contains(&at),
        "{what} at {at} ms, expected {lo}..={} ms:\n{}",
        lo + slack,
        t.dump()
    );
}

/// Runs until the `n`th synthesis request; returns when it was made.
async fn synthesized(line: &mut Line, limit_ms: u64, n: usize) -> u64 {
    line.run_until(limit_ms, |t| t.synthesized().len() == n)
        .await;
    line.timeline().synthesized()[n - 1].0
}

fn ended(phone: &switchboard::phone::Phone, p: Platform, outcome: &str) -> bool {
    let transport = match p {
        Platform::Twilio => "twilio",
        Platform::Vonage => "vonage",
    };
    phone.metrics.render().contains(&format!(
        "switchboard_calls_total{{transport=\"{transport}\",outcome=\"{outcome}\"}} 1"
    ))
}

async fn greeting_barge_in_and_the_answer(p: Platform) {
    let (mut line, phone) = call(p, CLASSIC).await;
    let tts = ScriptedTts::default();
    line.run_for(500).await;
    line.say(BOOKING, 1_500);
    let onset = 500 + line.uplink_delay_ms();
    let reply = synthesized(&mut line, 4_000, 2).await;
    let t = line.timeline();
    assert_eq!(t.synthesized()[0], (0, 0, WELCOME.to_string()));
    // The greeting is heard from the synthesiser's first chunk on, until the clear.
    let heard = t.heard();
    assert_at(
        &t,
        "greeting onset",
        heard[0].from_ms,
        tts.first_chunk_ms,
        2,
    );
    let clears = t.clears();
    assert_eq!(clears.len(), 1, "{}", t.dump());
    assert_at(&t, "clear", clears[0], onset + 300, VAD_SLACK_MS);
    assert_eq!(heard[0].to_ms, clears[0]);
    // The whole utterance is recognised 700 ms after it ended and answered at once.
    let asr = t.recognitions();
    assert_eq!(asr.len(), 1, "{}", t.dump());
    assert_eq!((asr[0].2, asr[0].3.as_str()), (AsrPriority::Final, BOOKING));
    let end = t.spoken()[0].to_ms + line.uplink_delay_ms();
    assert_at(&t, "recognition", asr[0].0, end + 700, VAD_SLACK_MS);
    assert_eq!(reply, asr[0].0 + ASR_MS);
    assert!(t.synthesized()[1].2.starts_with("Table booked for Tanya"));
    // The booking ends the conversation once its confirmation has played.
    line.until_played(1, 10_000).await;
    let closed = line.until_closed(1_000).await;
    let t = line.timeline();
    let heard = t.heard();
    assert_at(
        &t,
        "answer onset",
        heard[1].from_ms,
        reply + tts.first_chunk_ms,
        2,
    );
    assert_eq!(t.echoed(&sb_call::end_mark(1)), vec![closed]);
    assert!(t.problems().is_empty(), "{:?}", t.problems());
    assert!(ended(&phone, p, "completed"), "{}", phone.metrics.render());
}

async fn silence_reprompts_after_the_timeout_then_hangs_up(p: Platform) {
    let cfg = format!("no_input_timeout_ms = 4000\nmax_no_input = 1\n{CLASSIC}");
    let (mut line, phone) = call(p, &cfg).await;
    let m0 = line.until_played(0, 5_000).await;
    let reprompt = synthesized(&mut line, 6_000, 2).await;
    assert_eq!(
        reprompt,
        m0 + 4_000,
        "exactly the timeout after the greeting played"
    );
    let m1 = line.until_played(1, 10_000).await;
    let bye = synthesized(&mut line, 6_000, 3).await;
    assert_eq!(bye, m1 + 4_000);
    line.until_played(2, 10_000).await;
    let closed = line.until_closed(1_000).await;
    let t = line.timeline();
    assert_eq!(
        t.synthesized()[1].2,
        format!("Sorry, I didn't hear anything. {WELCOME}")
    );
    assert_eq!(t.synthesized()[2].2, "Sorry, I couldn't hear you. Goodbye!");
    assert_eq!(
        t.echoed(&sb_call::end_mark(2)),
        vec![closed],
        "{}",
        t.dump()
    );
    assert_eq!(t.heard().len(), 3, "{}", t.dump());
    assert!(ended(&phone, p, "completed"), "{}", phone.metrics.render());
}

async fn a_finished_sentence_is_answered_at_the_pause(p: Platform) {
    let (mut line, _phone) = call(p, EARLY).await;
    line.until_played(0, 5_000).await;
    line.pause(300).say(BOOKING, 1_500);
    let reply = synthesized(&mut line, 4_000, 2).await;
    let t = line.timeline();
    let end = t.spoken()[0].to_ms + line.uplink_delay_ms();
    let asr = t.recognitions();
    assert_eq!(asr.len(), 1, "{}", t.dump());
    assert_eq!(
        (asr[0].2, asr[0].3.as_str()),
        (AsrPriority::EarlyGuess, BOOKING)
    );
    assert_at(&t, "guess", asr[0].0, end + 200, VAD_SLACK_MS);
    assert_eq!(reply, asr[0].0 + ASR_MS, "answered with the guess");
    assert!(reply < end + 700, "{}", t.dump());
}

async fn a_guess_is_dropped_when_the_caller_goes_on(p: Platform) {
    let (mut line, _phone) = call(p, EARLY).await;
    line.until_played(0, 5_000).await;
    line.pause(300)
        .say(BOOKING, 1_500)
        .pause(250)
        .say("for two people", 600);
    let reply = synthesized(&mut line, 5_000, 2).await;
    let t = line.timeline();
    let asr = t.recognitions();
    assert_eq!(asr.len(), 2, "{}", t.dump());
    assert_eq!(
        (asr[0].2, asr[0].3.as_str()),
        (AsrPriority::EarlyGuess, BOOKING)
    );
    // Speech coming back stops the guess still running; the next pause hears it all.
    let cancels = t.cancelled();
    assert_eq!(cancels.len(), 1, "{}", t.dump());
    assert_eq!(cancels[0].1, asr[0].1);
    assert!(cancels[0].0 < asr[0].0 + ASR_MS, "{}", t.dump());
    let whole = format!("{BOOKING} for two people");
    assert_eq!(asr[1].3, whole);
    let end = t.spoken()[1].to_ms + line.uplink_delay_ms();
    assert_at(&t, "second guess", asr[1].0, end + 200, VAD_SLACK_MS);
    assert_eq!(reply, asr[1].0 + ASR_MS);
}

async fn keys_ended_by_the_terminator_are_the_turn(p: Platform) {
    let (mut line, _phone) = call(p, CLASSIC).await;
    let m0 = line.until_played(0, 5_000).await;
    line.run_for(1_000).await;
    line.press("12#", 300);
    let reply = synthesized(&mut line, 3_000, 2).await;
    assert_eq!(
        reply,
        m0 + 1_000 + 600,
        "answered when the terminator arrives"
    );
    let heard = line.run_until(1_000, |t| t.heard().len() == 2).await;
    let t = line.timeline();
    assert_at(&t, "reply onset", t.heard()[1].from_ms, reply + 80, 2);
    assert!(heard >= reply);
    assert!(t.recognitions().is_empty());
}

async fn pause_payload_plays_the_reply_then_ends_the_call_paused(p: Platform) {
    let (mut line, phone) = call(p, CLASSIC).await;
    line.until_played(0, 5_000).await;
    line.pause(300).say("I need to check my calendar", 1_200);
    line.until_played(1, 10_000).await;
    let closed = line.until_closed(1_000).await;
    let t = line.timeline();
    let said = "No problem. Call us back when you know, and we'll pick up where we left off.";
    assert_eq!(t.synthesized()[1].2, said);
    let heard = t.heard();
    let full = ScriptedTts::default().duration_ms(said);
    assert!(heard[1].ms().abs_diff(full) <= 20, "{}", t.dump());
    // The stream ends once the message has played (the paused session saved meanwhile).
    assert_eq!(
        t.echoed(&sb_call::end_mark(1)),
        vec![closed],
        "{}",
        t.dump()
    );
    assert!(
        !t.entries
            .iter()
            .any(|(at, s)| *at >= closed && matches!(s, Seen::BotAudio { .. })),
        "nothing said after the pause message:\n{}",
        t.dump()
    );
    assert!(ended(&phone, p, "paused"), "{}", phone.metrics.render());
}

async fn handoff_payload_plays_the_reply_then_ends_the_call(p: Platform) {
    let (mut line, phone) = call(p, CLASSIC).await;
    line.until_played(0, 5_000).await;
    line.pause(300).say("I want to speak to an agent", 1_200);
    line.until_played(1, 10_000).await;
    let closed = line.until_closed(1_000).await;
    let t = line.timeline();
    let said = "Of course. I'm transferring you to one of our team now.";
    assert_eq!(t.synthesized()[1].2, said);
    let full = ScriptedTts::default().duration_ms(said);
    assert!(t.heard()[1].ms().abs_diff(full) <= 20, "{}", t.dump());
    assert_eq!(t.echoed(&sb_call::end_mark(1)), vec![closed]);
    assert!(
        ended(&phone, p, "live-agent-handoff"),
        "{}",
        phone.metrics.render()
    );
}
