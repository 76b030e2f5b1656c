//! Early end of turn on a virtual clock: recognition at a 200 ms pause (and at the default
//! 120 ms, asked again at 200 ms when the driver skipped it), the turn taken there when the words
//! sound finished, held to the 700 ms end of speech when they don't, dropped when the caller
//! goes on.

mod common;
use common::*;
use sb_call::*;

const BOOKING: &str = "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya.";

/// Welcome played (m = 1100); the caller speaks 1500..2500; returns the tentative ASR request.
fn spoke(h: &mut Harness) -> (u64, u64, Vec<i16>) {
    assert_eq!(welcomed(h), 1100);
    h.audio(400, false);
    h.audio(1000, true);
    let (t, turn, pcm, _) = h.until_asr();
    (t, turn, pcm)
}

fn asr_requests(out: &Timed) -> Vec<(u64, u64, usize)> {
    out.iter()
        .filter_map(|(t, o)| match o {
            Output::Asr { turn, pcm16k, .. } => Some((*t, *turn, pcm16k.len() / 16)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_finished_sentence_is_answered_at_the_pause() {
    let mut h = Harness::new(early_200());
    let (t, turn, pcm) = spoke(&mut h);
    // The frame 2680..2700 completes 200 ms of silence; audio from the 300 ms pre-roll on.
    assert_eq!((t, turn, pcm.len() / 16), (2680, 1, 1500));
    let out = h.asr(2800, 1, BOOKING);
    let (turn, reply) = synth(&out).expect("answered at once");
    assert_eq!(turn, 1);
    assert!(reply.starts_with("Table booked for Tanya at "), "{reply}");
    // The utterance is closed: the rest of the silence asks for nothing more.
    let out = h.audio(1000, false);
    assert!(asr_requests(&out).is_empty(), "{out:?}");
    let out = h.tts(2900, 1, 500, true);
    assert_eq!(actions(&out)[0].0, 2900);
    let rec = &records(&h.mark(3400, 1))[0];
    assert_eq!(rec.timings.speech_end_ms, Some(2500));
    assert_eq!(rec.timings.asr_ms, Some(300));
    assert_eq!(
        rec.timings.reply_latency_ms,
        Some(400),
        "vs 980+ at a 700 ms end silence"
    );
}

#[test]
fn an_unfinished_sentence_waits_for_the_end_of_speech() {
    let mut h = Harness::new(early_200());
    let (_, turn, _) = spoke(&mut h);
    let out = h.asr(2700, turn, "I'd like to book a table for");
    assert!(out.is_empty(), "held: {out:?}");
    // 700 ms after the last speech (frame 3180..3200) the whole utterance is heard again: the
    // early words read as unfinished, so the pause may have cut them short.
    let out = h.audio(700, false);
    assert_eq!(asr_requests(&out), vec![(3180, turn + 1, 1600)], "{out:?}");
    assert!(synth(&out).is_none());
    let out = h.asr(3400, turn + 1, "I'd like to book a table for");
    assert_eq!(
        synth(&out),
        Some((turn + 1, "For whom should I book the table?".into()))
    );
}

#[test]
fn speech_after_the_pause_drops_the_early_result() {
    let mut h = Harness::new(early_200());
    let (_, first, _) = spoke(&mut h);
    let out = h.audio(300, true); // 2700..3000: the caller goes on
                                  // The first voiced frame after the pause cancels the recognition in flight.
    let cancels: Vec<_> = out
        .iter()
        .filter(|(_, o)| matches!(o, Output::CancelAsr { .. }))
        .collect();
    assert_eq!(cancels, vec![&(2700, Output::CancelAsr { turn: first })]);
    assert!(
        h.asr(3000, first, "I'd like to book a table").is_empty(),
        "stale"
    );
    let out = h.audio(200, false);
    assert_eq!(
        asr_requests(&out),
        vec![(3180, first + 1, 2000)],
        "whole utterance"
    );
    let out = h.asr(3250, first + 1, BOOKING);
    assert!(synth(&out).is_some_and(|(_, r)| r.starts_with("Table booked for Tanya")));
}

#[test]
fn a_held_result_is_dropped_when_the_caller_goes_on() {
    let mut h = Harness::new(early_200());
    let (_, first, _) = spoke(&mut h);
    assert!(h
        .asr(2690, first, "I'd like to book a table for")
        .is_empty());
    h.audio(300, true); // "… Tanya"
    let out = h.audio(200, false);
    assert_eq!(asr_requests(&out), vec![(3180, first + 1, 2000)]);
    // It sounds finished, but the booking still lacks its date and time: the caller may go on,
    // so the turn waits for the full end of speech (700 ms of silence).
    let out = h.asr(3300, first + 1, "I'd like to book a table for Tanya");
    assert!(out.is_empty(), "{out:?}");
    let out = h.audio(600, false);
    let at = out
        .iter()
        .find_map(|(t, o)| matches!(o, Output::Synthesize { .. }).then_some(*t));
    assert_eq!(at, Some(3780));
    assert_eq!(
        synth(&out),
        Some((first + 1, "On which date would you like the table?".into()))
    );
}

#[test]
fn keys_in_a_pause_replace_the_early_recognition() {
    let mut h = Harness::new(early_200());
    let (t, first, _) = spoke(&mut h);
    h.input(Input::Dtmf {
        at_ms: t + 40,
        digit: '1',
    });
    h.input(Input::Dtmf {
        at_ms: t + 60,
        digit: '#',
    });
    assert!(h.asr(t + 100, first, BOOKING).is_empty(), "the keys won");
}

#[test]
fn the_default_pause_is_60_ms() {
    let mut h = Harness::new(CallConfig::default());
    let (t, turn, pcm) = spoke(&mut h);
    // Speech ends at 2500; the frame 2540..2560 completes 60 ms of silence.
    assert_eq!((t, turn, pcm.len() / 16), (2540, 1, 1360));
    let out = h.asr(2750, 1, BOOKING);
    assert!(synth(&out).is_some_and(|(_, r)| r.starts_with("Table booked for Tanya")));
}

fn priorities(out: &Timed) -> Vec<(u64, AsrPriority)> {
    out.iter()
        .filter_map(|(t, o)| match o {
            Output::Asr { priority, .. } => Some((*t, *priority)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_skipped_first_pause_is_asked_again_at_200_ms() {
    let mut h = Harness::new(CallConfig::default());
    assert_eq!(welcomed(&mut h), 1100);
    h.audio(400, false);
    let out = h.audio(1000, true); // speech 1500..2500
    assert!(priorities(&out).is_empty(), "{out:?}");
    // 60 ms of silence: the eager request.
    let out = h.audio(60, false);
    assert_eq!(priorities(&out), vec![(2540, AsrPriority::EarlyGuess)]);
    let first = asr_requests(&out)[0].1;
    // The driver's recogniser is busy with other calls: skipped.
    assert!(h
        .input(Input::AsrSkipped {
            at_ms: 2540,
            turn: first,
        })
        .is_empty());
    // At 200 ms of silence the pause is reported again and the request repeated, not eager.
    let out = h.audio(140, false);
    assert_eq!(
        priorities(&out),
        vec![(2680, AsrPriority::LateGuess)],
        "{out:?}"
    );
    let (_, second, ms) = asr_requests(&out)[0];
    assert_eq!((second, ms), (first + 1, 1500));
    let out = h.asr(2900, second, BOOKING);
    assert!(synth(&out).is_some_and(|(_, r)| r.starts_with("Table booked for Tanya")));
}

#[test]
fn a_recognition_started_at_the_first_pause_is_not_repeated() {
    let mut h = Harness::new(CallConfig::default());
    let (t, turn, _) = spoke(&mut h);
    assert_eq!((t, turn), (2540, 1));
    // Still running at the late report: nothing new is asked.
    let out = h.audio(300, false);
    assert!(asr_requests(&out).is_empty(), "{out:?}");
    let out = h.asr(2850, turn, BOOKING);
    assert!(synth(&out).is_some_and(|(_, r)| r.starts_with("Table booked for Tanya")));
}

#[test]
fn a_skipped_early_recognition_leaves_the_turn_to_the_end_of_speech() {
    let mut h = Harness::new(early_200());
    let (t, first, _) = spoke(&mut h);
    let out = h.input(Input::AsrSkipped {
        at_ms: t,
        turn: first,
    });
    assert!(out.is_empty(), "{out:?}");
    // Nothing more at the pause; at 700 ms of silence the whole utterance (from its 300 ms
    // pre-roll to 300 ms after it) is recognised.
    let out = h.audio(700, false);
    assert_eq!(asr_requests(&out), vec![(3180, first + 1, 1600)]);
    let out = h.asr(3400, first + 1, BOOKING);
    assert!(synth(&out).is_some_and(|(_, r)| r.starts_with("Table booked for Tanya")));
}

#[test]
fn an_answer_to_the_prompt_is_taken_at_the_pause() {
    let mut h = Harness::new(early_200());
    let (_, first, _) = spoke(&mut h);
    // "I'd like to book a table at ten" sounds finished but lacks the person and the date: held.
    assert!(h
        .asr(2700, first, "I'd like to book a table at ten.")
        .is_empty());
    let out = h.audio(600, false);
    assert_eq!(
        synth(&out),
        Some((first, "For whom should I book the table?".into()))
    );
    let turn = synth(&out).map(|(t, _)| t).unwrap_or_default();
    let end = h.now + 500;
    h.tts(h.now, turn, 500, true);
    h.mark(end, turn);
    // The answer fills the parameter asked for: taken as soon as it is recognised.
    h.audio(200, false);
    h.audio(600, true);
    let (_, next, _, _) = h.until_asr();
    let out = h.asr(h.now + 150, next, "Tanya.");
    assert_eq!(
        synth(&out),
        Some((next, "On which date would you like the table?".into()))
    );
}

#[test]
fn a_guess_still_running_at_the_end_is_used_when_it_reads_finished() {
    let mut h = Harness::new(early_200());
    let (_, first, _) = spoke(&mut h);
    // 700 ms of silence end the utterance while the pause's recognition still runs: nothing
    // new is asked, its answer is awaited.
    let out = h.audio(700, false);
    assert!(asr_requests(&out).is_empty(), "{out:?}");
    let out = h.asr(3300, first, BOOKING);
    assert!(synth(&out).is_some_and(|(t, r)| t == first && r.starts_with("Table booked for Tanya")));
}

#[test]
fn a_guess_that_fails_after_the_end_is_heard_again_whole() {
    let mut h = Harness::new(early_200());
    let (_, first, _) = spoke(&mut h);
    let out = h.audio(700, false);
    assert!(asr_requests(&out).is_empty(), "{out:?}");
    // The server stopped the guess for another caller's final recognition: the whole utterance
    // (pre-roll to 300 ms after it) is recognised, not dropped.
    let out = h.input(Input::AsrResult {
        at_ms: 3300,
        turn: first,
        result: Err(sb_contracts::asr::AsrFailure::Cancelled),
    });
    assert_eq!(asr_requests(&out), vec![(3300, first + 1, 1600)], "{out:?}");
    let warned = out
        .iter()
        .any(|(_, o)| matches!(o, Output::Event(CallEvent::Warning { .. })));
    assert!(!warned, "{out:?}");
    let out = h.asr(3500, first + 1, BOOKING);
    assert!(synth(&out).is_some_and(|(_, r)| r.starts_with("Table booked for Tanya")));
    // Likewise a guess that reads unfinished ("… at ten on") is not taken as the turn.
    let mut h = Harness::new(early_200());
    let (_, first, _) = spoke(&mut h);
    h.audio(700, false);
    let out = h.asr(3300, first, "I'd like to book a table at ten on");
    assert_eq!(asr_requests(&out), vec![(3300, first + 1, 1600)], "{out:?}");
}
