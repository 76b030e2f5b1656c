//! Whole path on a virtual clock (caller codec ↔ server codec ↔ call session, scripted ASR and
//! TTS), on Twilio (8 kHz μ-law JSON) and Vonage (16 kHz L16 binary): the greeting, barge-in,
//! no-input re-prompts and hang-up, DTMF.

mod virtual_support;

use sb_call::{CallEvent, EndStatus, HangupReason, TurnInput};
use sb_testkit::virtual_call::voice::ScriptedTts;
use sb_testkit::Platform;
use virtual_support::*;

on_both_platforms!(
    greeting_plays_in_full_and_then_the_call_listens,
    speech_during_the_greeting_clears_it_and_is_answered,
    a_cough_during_the_greeting_does_not_interrupt_it,
    silence_reprompts_after_the_timeout_then_says_goodbye_and_hangs_up,
    keys_ended_by_the_terminator_are_the_turn,
    keys_end_after_the_inter_digit_timeout,
    a_key_during_the_greeting_interrupts_it,
);

fn greeting_plays_in_full_and_then_the_call_listens(p: Platform) {
    let mut c = call(p, classic());
    let tts = ScriptedTts::default();
    c.start();
    assert_eq!(c.synthesized(), vec![(0, 0, WELCOME.to_string())]);
    let echo = c.until_played(0, 5_000);
    let heard = c.heard();
    assert_eq!(heard.len(), 1, "{}", c.dump());
    // First sound as soon as the synthesiser's first chunk is there; all of it is heard.
    assert_at(
        &c,
        "greeting onset",
        heard[0].from_ms,
        tts.first_chunk_ms,
        2,
    );
    let full = tts.duration_ms(WELCOME);
    assert!(
        heard[0].ms().abs_diff(full) <= FRAME_MS,
        "heard {} of {full} ms:\n{}",
        heard[0].ms(),
        c.dump()
    );
    // The mark comes back once the audio before it has played, and only then is the turn done.
    assert_at(&c, "mark echo", echo, heard[0].to_ms, FRAME_MS);
    let rec = records(&c);
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0].0, echo);
    assert_eq!(
        rec[0].1.input,
        TurnInput::Event {
            name: "WELCOME".into()
        }
    );
    assert_eq!(rec[0].1.intent.as_deref(), Some("Default Welcome Intent"));
    // Listening: the next deadline is the no-input timeout from the echo.
    assert_eq!(c.session().poll_timeout(), Some(echo + 7_000));
    c.run_for(2_000);
    assert_eq!(c.synthesized().len(), 1, "nothing said while listening");
    assert!(c.problems().is_empty(), "{:?}", c.problems());
}

fn speech_during_the_greeting_clears_it_and_is_answered(p: Platform) {
    let mut c = call(p, classic());
    c.start();
    c.run_for(500);
    c.say(BOOKING, 1_500);
    let onset = 500 + c.uplink_delay_ms();
    c.until_said(3_000);
    let reply = c.run_until(3_000, |c| c.synthesized().len() == 2);
    // 300 ms of voiced speech (the barge-in minimum) interrupts: `clear` within a frame.
    let clears = c.clears();
    assert_eq!(clears.len(), 1, "{}", c.dump());
    assert_at(&c, "clear", clears[0], onset + 300, FRAME_MS);
    let barge: Vec<_> = c
        .events()
        .into_iter()
        .filter_map(|(t, e)| match e {
            CallEvent::BargeIn { turn, at_ms } => Some((t, turn, at_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(barge.len(), 1);
    assert_eq!((barge[0].0, barge[0].1), (clears[0], 0));
    // The caller heard the greeting up to the clear, and nothing of it after.
    let heard = c.heard();
    assert_eq!(heard.len(), 1, "{}", c.dump());
    assert_eq!(heard[0].to_ms, clears[0]);
    assert!(heard[0].ms() < ScriptedTts::default().duration_ms(WELCOME));
    // The interrupted greeting is recorded as such; the utterance is heard whole and answered
    // 700 ms of silence + the recogniser's 150 ms after it ended.
    let rec = records(&c);
    assert!(rec[0].1.interrupted, "{:?}", rec[0]);
    let asr = c.recognitions();
    assert_eq!(asr.len(), 1, "{}", c.dump());
    assert_eq!(asr[0].3, BOOKING);
    let end = speech_end(&c);
    assert_at(&c, "reply", reply, end + 700 + 150, FRAME_MS);
    let (_, turn, text) = &c.synthesized()[1];
    assert_eq!(*turn, 1);
    assert!(text.starts_with("Table booked for Tanya"), "{text}");
    c.until_played(1, 10_000);
    assert_eq!(c.heard().len(), 2);
    assert!(c.problems().is_empty(), "{:?}", c.problems());
}

fn a_cough_during_the_greeting_does_not_interrupt_it(p: Platform) {
    let mut c = call(p, classic());
    c.start();
    c.run_for(400);
    c.say("ahem", 200);
    c.until_played(0, 5_000);
    assert!(c.clears().is_empty(), "{}", c.dump());
    let heard = c.heard();
    assert_eq!(heard.len(), 1);
    let full = ScriptedTts::default().duration_ms(WELCOME);
    assert!(heard[0].ms().abs_diff(full) <= FRAME_MS, "{}", c.dump());
    // A sound while the bot spoke is no turn.
    c.run_for(2_000);
    assert!(c.recognitions().is_empty(), "{}", c.dump());
}

fn silence_reprompts_after_the_timeout_then_says_goodbye_and_hangs_up(p: Platform) {
    let cfg = sb_call::CallConfig {
        no_input_timeout_ms: 4_000,
        max_no_input: 1,
        ..classic()
    };
    let mut c = call(p, cfg);
    let m0 = welcomed(&mut c);
    let reprompt = c.run_until(10_000, |c| c.synthesized().len() == 2);
    assert_eq!(
        reprompt,
        m0 + 4_000,
        "exactly the timeout after the welcome played"
    );
    assert_eq!(
        c.synthesized()[1].2,
        format!("Sorry, I didn't hear anything. {WELCOME}")
    );
    let m1 = c.until_played(1, 10_000);
    let goodbye = c.run_until(10_000, |c| c.synthesized().len() == 3);
    assert_eq!(goodbye, m1 + 4_000);
    assert_eq!(c.synthesized()[2].2, "Sorry, I couldn't hear you. Goodbye!");
    let no_inputs: Vec<_> = c
        .events()
        .into_iter()
        .filter_map(|(_, e)| match e {
            CallEvent::NoInput { count, at_ms } => Some((count, at_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(no_inputs, vec![(1, m0 + 4_000), (2, m1 + 4_000)]);
    // The goodbye is heard in full, then the bot hangs up and the stream ends.
    let closed = c.until_closed(10_000);
    let m2 = c.echoed(&sb_call::end_mark(2));
    assert_eq!(m2, vec![closed], "{}", c.dump());
    assert_eq!(c.hangup(), Some((closed, HangupReason::NoInput)));
    assert_eq!(c.ended(), Some((closed, EndStatus::Completed)));
    let heard = c.heard();
    assert_eq!(heard.len(), 3, "{}", c.dump());
    let bye = ScriptedTts::default().duration_ms("Sorry, I couldn't hear you. Goodbye!");
    assert!(heard[2].ms().abs_diff(bye) <= FRAME_MS, "{}", c.dump());
    assert!(c.problems().is_empty(), "{:?}", c.problems());
}

fn keys_ended_by_the_terminator_are_the_turn(p: Platform) {
    let mut c = call(p, classic());
    let m0 = welcomed(&mut c);
    c.run_for(1_000);
    c.press("12#", 300);
    let reply = c.run_until(3_000, |c| c.synthesized().len() == 2);
    let hash = m0 + 1_000 + 600;
    assert_eq!(reply, hash, "answered when the terminator arrives");
    let i = intents(&c);
    assert_eq!((i[1].0, i[1].1, i[1].3.as_str()), (hash, 1, "12"));
    let echo = c.until_played(1, 10_000);
    let rec = records(&c);
    assert_eq!(rec[1].0, echo);
    assert_eq!(
        rec[1].1.input,
        TurnInput::Dtmf {
            digits: "12".into()
        }
    );
    assert_eq!(rec[1].1.timings.speech_end_ms, Some(hash));
    let heard = c.heard();
    assert_at(
        &c,
        "reply onset",
        heard[1].from_ms,
        hash + ScriptedTts::default().first_chunk_ms,
        2,
    );
    assert!(c.recognitions().is_empty());
}

fn keys_end_after_the_inter_digit_timeout(p: Platform) {
    let mut c = call(p, classic());
    let m0 = welcomed(&mut c);
    c.run_for(500);
    c.press("42", 400);
    let last_key = m0 + 500 + 400;
    let reply = c.run_until(5_000, |c| c.synthesized().len() == 2);
    assert_eq!(reply, last_key + 3_000, "the default inter-digit timeout");
    assert_eq!(intents(&c)[1].3, "42");
    // The no-input timer did not run meanwhile: no re-prompt, no no-input event.
    assert!(!c
        .events()
        .iter()
        .any(|(_, e)| matches!(e, CallEvent::NoInput { .. })));
}

fn a_key_during_the_greeting_interrupts_it(p: Platform) {
    let mut c = call(p, classic());
    c.start();
    c.run_for(600);
    c.press("7#", 200);
    let reply = c.run_until(3_000, |c| c.synthesized().len() == 2);
    assert_eq!(c.clears(), vec![600], "the first key clears the greeting");
    assert_eq!(c.heard()[0].to_ms, 600);
    assert_eq!(reply, 800);
    assert_eq!(intents(&c)[1].3, "7");
    assert!(c.problems().is_empty(), "{:?}", c.problems());
}
