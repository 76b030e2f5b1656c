//! Whole path on a virtual clock, on Twilio and Vonage: the early end of turn (a guess taken at
//! a pause; a guess dropped when the caller goes on), and the ways a call ends: pause
//! (`TWILIO_ACTION: PAUSE`), live-agent handoff, the caller hanging up.

mod virtual_support;

use sb_call::{AsrPriority, EndStatus, HangupReason};
use sb_testkit::virtual_call::voice::ScriptedTts;
use sb_testkit::Platform;
use serde_json::json;
use virtual_support::*;

on_both_platforms!(
    a_finished_sentence_is_answered_at_the_pause,
    a_guess_is_dropped_when_the_caller_goes_on,
    an_unfinished_guess_waits_for_the_end_of_speech,
    pause_payload_plays_the_reply_then_ends_the_stream_paused,
    handoff_payload_plays_the_reply_then_hands_off,
    caller_hanging_up_mid_recognition_ends_the_call,
);

/// ASR delay of the scripted recogniser (its default).
const ASR_MS: u64 = 150;

fn a_finished_sentence_is_answered_at_the_pause(p: Platform) {
    let mut c = call(p, early());
    welcomed(&mut c);
    c.pause(300).say(BOOKING, 1_500);
    c.until_said(3_000);
    let reply = c.run_until(2_000, |c| c.synthesized().len() == 2);
    let end = speech_end(&c);
    // The guess goes out after the 200 ms pause; its result is the turn: the reply starts at
    // end + 200 + ASR, not end + 700 + ASR.
    let asr = c.recognitions();
    assert_eq!(asr.len(), 1, "{}", c.dump());
    assert_eq!(
        (asr[0].2, asr[0].3.as_str()),
        (AsrPriority::EarlyGuess, BOOKING)
    );
    assert_at(&c, "guess", asr[0].0, end + 200, FRAME_MS);
    assert_eq!(reply, asr[0].0 + ASR_MS);
    assert!(reply < end + 700, "{}", c.dump());
    assert!(c.synthesized()[1].2.starts_with("Table booked for Tanya"));
    // The rest of the silence asks for nothing more.
    c.until_played(1, 10_000);
    assert_eq!(c.recognitions().len(), 1, "{}", c.dump());
    let rec = records(&c);
    let t = &rec[1].1.timings;
    assert_eq!(
        t.speech_end_ms.map(|e| e.abs_diff(end) <= FRAME_MS),
        Some(true)
    );
    let first = c.heard()[1].from_ms;
    assert_at(
        &c,
        "reply heard",
        first,
        reply + ScriptedTts::default().first_chunk_ms,
        2,
    );
}

fn a_guess_is_dropped_when_the_caller_goes_on(p: Platform) {
    let mut c = call(p, early());
    welcomed(&mut c);
    // A finished-sounding sentence, a breath longer than the early pause but shorter than the
    // guess takes, and more.
    c.pause(300)
        .say(BOOKING, 1_500)
        .pause(250)
        .say("for two people", 600);
    c.until_said(4_000);
    let reply = c.run_until(2_000, |c| c.synthesized().len() == 2);
    let asr = c.recognitions();
    assert_eq!(asr.len(), 2, "{}", c.dump());
    let (guess_at, guess_turn) = (asr[0].0, asr[0].1);
    assert_eq!(
        (asr[0].2, asr[0].3.as_str()),
        (AsrPriority::EarlyGuess, BOOKING)
    );
    // Speech coming back cancels the guess still running; nothing is answered meanwhile.
    let cancels = c.cancelled();
    assert_eq!(cancels.len(), 1, "{}", c.dump());
    assert_eq!(cancels[0].1, guess_turn);
    assert!(cancels[0].0 < guess_at + ASR_MS, "{}", c.dump());
    // The next pause guesses the whole utterance, and that is the turn.
    let end = speech_end(&c);
    let whole = format!("{BOOKING} for two people");
    assert_eq!(
        (asr[1].2, asr[1].3.as_str()),
        (AsrPriority::EarlyGuess, whole.as_str())
    );
    assert_at(&c, "second guess", asr[1].0, end + 200, FRAME_MS);
    assert_eq!(reply, asr[1].0 + ASR_MS);
    let i = intents(&c);
    assert_eq!(i.len(), 2, "one answer for the utterance:\n{}", c.dump());
    assert_eq!(i[1].3, whole);
}

fn an_unfinished_guess_waits_for_the_end_of_speech(p: Platform) {
    let mut c = call(p, early());
    welcomed(&mut c);
    c.pause(300).say("I'd like to book a table for", 1_200);
    c.until_said(3_000);
    let reply = c.run_until(2_000, |c| c.synthesized().len() == 2);
    let end = speech_end(&c);
    let asr = c.recognitions();
    // The guess reads unfinished ("… for"): held, then the whole utterance is heard again at
    // the full end of speech, and only that is answered.
    assert_eq!(asr.len(), 2, "{}", c.dump());
    assert_eq!(asr[0].2, AsrPriority::EarlyGuess);
    assert_eq!(asr[1].2, AsrPriority::Final);
    assert_at(&c, "final", asr[1].0, end + 700, FRAME_MS);
    assert_eq!(reply, asr[1].0 + ASR_MS);
    assert_eq!(c.synthesized()[1].2, "For whom should I book the table?");
}

fn pause_payload_plays_the_reply_then_ends_the_stream_paused(p: Platform) {
    let mut c = call(p, classic());
    welcomed(&mut c);
    c.pause(300).say("I need to check my calendar", 1_200);
    let closed = c.until_closed(10_000);
    let said = "No problem. Call us back when you know, and we'll pick up where we left off.";
    assert_eq!(c.synthesized()[1].2, said);
    // The whole message is heard, then the stream ends at its mark's echo.
    let heard = c.heard();
    assert_eq!(heard.len(), 2, "{}", c.dump());
    let full = ScriptedTts::default().duration_ms(said);
    assert!(heard[1].ms().abs_diff(full) <= FRAME_MS, "{}", c.dump());
    assert_eq!(c.echoed(&sb_call::end_mark(1)), vec![closed]);
    assert_eq!(c.hangup(), Some((closed, HangupReason::Paused)));
    let (at, status) = c.ended().expect("ended");
    assert_eq!(at, closed);
    let EndStatus::Paused { params } = status else {
        panic!("{status:?}")
    };
    assert_eq!(
        serde_json::Value::Object(params),
        json!({"reason": "caller is checking their calendar"}),
        "the payload without TWILIO_ACTION"
    );
    assert!(c.problems().is_empty(), "{:?}", c.problems());
}

fn handoff_payload_plays_the_reply_then_hands_off(p: Platform) {
    let mut c = call(p, classic());
    welcomed(&mut c);
    c.pause(300).say("I want to speak to an agent", 1_200);
    let closed = c.until_closed(10_000);
    let said = "Of course. I'm transferring you to one of our team now.";
    assert_eq!(c.synthesized()[1].2, said);
    let heard = c.heard();
    assert_eq!(heard.len(), 2, "{}", c.dump());
    let full = ScriptedTts::default().duration_ms(said);
    assert!(heard[1].ms().abs_diff(full) <= FRAME_MS, "{}", c.dump());
    assert_eq!(c.echoed(&sb_call::end_mark(1)), vec![closed]);
    assert_eq!(c.hangup(), Some((closed, HangupReason::LiveAgentHandoff)));
    let (_, status) = c.ended().expect("ended");
    let EndStatus::LiveAgentHandoff {
        params,
        transfer_to,
    } = status
    else {
        panic!("{status:?}")
    };
    assert_eq!(transfer_to, None);
    assert_eq!(params["live_agent_handoff"], json!(true), "{params}");
    assert_eq!(params["reason"], "caller asked for a person", "{params}");
    assert!(c.problems().is_empty(), "{:?}", c.problems());
}

fn caller_hanging_up_mid_recognition_ends_the_call(p: Platform) {
    let mut c = call(p, classic());
    welcomed(&mut c);
    c.pause(300).say(BOOKING, 1_500);
    let asked = c.run_until(5_000, |c| !c.recognitions().is_empty());
    c.run_for(ASR_MS / 2);
    c.hang_up();
    let at = asked + ASR_MS / 2;
    assert_eq!(c.ended(), Some((at, EndStatus::Completed)));
    assert_eq!(c.hangup(), None, "the caller hung up, not the bot");
    // The late transcript is not answered.
    assert_eq!(c.synthesized().len(), 1);
    assert_eq!(intents(&c).len(), 1);
}
