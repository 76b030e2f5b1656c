//! Barge-in, DTMF, no-input, hang-ups and timers on a virtual clock.

mod common;
use common::*;
use sb_call::*;
use sb_contracts::asr::Transcript;

/// Start at 0 with the welcome's first (not last) chunk playing from 0; audio flows from 0.
fn speaking_welcome(cfg: CallConfig) -> Harness {
    let mut h = Harness::new(cfg);
    h.start();
    let out = h.tts(0, 0, 2000, false);
    assert_eq!(actions(&out).len(), 1);
    assert!(h.audio(500, false).is_empty());
    h
}

#[test]
fn barge_in_clears_playback_within_one_frame_and_drops_late_chunks() {
    let mut h = speaking_welcome(classic());
    // Speech from 500: 300 ms of it is complete when the frame 780..800 has been heard.
    let out = h.audio(280, true);
    assert!(actions(&out).is_empty(), "{out:?}");
    let out = h.audio(20, true);
    assert_eq!(actions(&out), vec![(780, Output::ClearPlayback)]);
    assert_eq!(
        events(&out)[0],
        CallEvent::BargeIn {
            turn: 0,
            at_ms: 800
        }
    );
    let rec = &records(&out)[0];
    assert!(rec.interrupted);
    assert_eq!(rec.timings.tts_first_audio_ms, Some(0));
    // The rest of the welcome arrives late: dropped, no mark; a stray echo changes nothing.
    assert!(h.tts(790, 0, 1000, true).is_empty());
    assert!(h.mark(795, 0).is_empty());
    assert!(
        h.audio(700, true).is_empty(),
        "caller keeps talking until 1500"
    );
    let (t, turn, pcm, _) = h.until_asr();
    assert_eq!((t, turn), (2080, 1));
    assert_eq!(
        pcm.len(),
        (1800 - 200) * 16,
        "the utterance from its true start, pre-roll included"
    );
    let out = h.asr(2200, 1, "I'd like to book a table");
    assert_eq!(
        synth(&out),
        Some((1, "For whom should I book the table?".into()))
    );
}

#[test]
fn cough_shorter_than_the_minimum_does_not_interrupt() {
    let mut h = speaking_welcome(CallConfig::default());
    let out = h.audio(280, true); // 280 ms of voiced audio: under 300
    let out2 = h.audio(1000, false);
    assert!(out.is_empty() && out2.is_empty(), "{out:?} {out2:?}");
    let out = h.tts(1800, 0, 0, true);
    assert_eq!(
        actions(&out),
        vec![(1800, Output::Mark("turn-0-end".into()))]
    );
    h.mark(2100, 0);
    assert_eq!(h.s.poll_timeout(), Some(2100 + 7000));
}

#[test]
fn barge_in_can_be_turned_off() {
    let cfg = CallConfig {
        barge_in: false,
        ..CallConfig::default()
    };
    let mut h = speaking_welcome(cfg);
    let out = h.audio(1000, true);
    let out2 = h.audio(1000, false);
    assert!(
        out.is_empty() && out2.is_empty(),
        "speech over the prompt is ignored"
    );
    assert!(
        h.input(Input::Dtmf {
            at_ms: 2600,
            digit: '1'
        })
        .is_empty(),
        "so are keys"
    );
    let out = h.tts(2600, 0, 0, true);
    assert_eq!(
        actions(&out),
        vec![(2600, Output::Mark("turn-0-end".into()))]
    );
}

#[test]
fn dtmf_terminator_sends_the_digits_as_text() {
    let mut h = Harness::new(CallConfig::default());
    let m = welcomed(&mut h);
    assert!(h
        .input(Input::Dtmf {
            at_ms: m + 1000,
            digit: '1'
        })
        .is_empty());
    assert_eq!(
        h.s.poll_timeout(),
        Some(m + 1000 + 3000),
        "no-input replaced by the inter-digit timer"
    );
    assert!(h
        .input(Input::Dtmf {
            at_ms: m + 1500,
            digit: '2'
        })
        .is_empty());
    let out = h.input(Input::Dtmf {
        at_ms: m + 1800,
        digit: '#',
    });
    let Some(CallEvent::IntentMatched {
        turn: 1, result, ..
    }) = events(&out).first().cloned()
    else {
        panic!("{out:?}")
    };
    assert_eq!(result.query_result["queryText"], "12");
    assert_eq!(synth(&out).map(|s| s.0), Some(1));
    let out = h.play(1);
    let rec = &records(&out)[0];
    assert_eq!(
        rec.input,
        TurnInput::Dtmf {
            digits: "12".into()
        }
    );
    assert_eq!(rec.timings.speech_end_ms, Some(m + 1800));
    assert_eq!(
        rec.timings.reply_latency_ms,
        Some(h.now - 1000 - (m + 1800))
    );
}

#[test]
fn dtmf_inter_digit_timeout_and_barge_in() {
    let mut h = Harness::new(CallConfig::default());
    h.start();
    h.tts(100, 0, 2000, true);
    // A key during the welcome interrupts it.
    let out = h.input(Input::Dtmf {
        at_ms: 500,
        digit: '4',
    });
    assert_eq!(actions(&out), vec![(500, Output::ClearPlayback)]);
    assert_eq!(
        events(&out)[0],
        CallEvent::BargeIn {
            turn: 0,
            at_ms: 500
        }
    );
    h.input(Input::Dtmf {
        at_ms: 900,
        digit: '2',
    });
    assert_eq!(h.s.poll_timeout(), Some(3900));
    assert!(h.until(3899).is_empty());
    let out = h.until(3900);
    let Some(CallEvent::IntentMatched {
        turn: 1,
        at_ms: 3900,
        result,
    }) = events(&out).first().cloned()
    else {
        panic!("{out:?}")
    };
    assert_eq!(result.query_result["queryText"], "42");
}

#[test]
fn no_input_reprompts_twice_then_says_goodbye_and_hangs_up() {
    let mut h = Harness::new(CallConfig::default());
    let m1 = welcomed(&mut h);
    let reprompt = format!("Sorry, I didn't hear anything. {WELCOME}");
    assert_eq!(h.s.poll_timeout(), Some(m1 + 7000));
    assert!(h.until(m1 + 6999).is_empty());
    let out = h.until(m1 + 7000);
    assert_eq!(
        events(&out),
        vec![CallEvent::NoInput {
            count: 1,
            at_ms: m1 + 7000
        }]
    );
    assert_eq!(
        actions(&out),
        vec![(
            m1 + 7000,
            Output::Synthesize {
                turn: 1,
                text: reprompt.clone()
            }
        )]
    );
    h.play(1);
    let m2 = h.now;
    assert_eq!(m2, m1 + 7000 + 1100);
    let out = h.until(m2 + 7000);
    assert_eq!(
        events(&out),
        vec![CallEvent::NoInput {
            count: 2,
            at_ms: m2 + 7000
        }]
    );
    assert_eq!(
        actions(&out),
        vec![(
            m2 + 7000,
            Output::Synthesize {
                turn: 2,
                text: reprompt
            }
        )]
    );
    h.play(2);
    let m3 = h.now;
    let out = h.until(m3 + 7000);
    assert_eq!(
        events(&out),
        vec![CallEvent::NoInput {
            count: 3,
            at_ms: m3 + 7000
        }]
    );
    assert_eq!(
        actions(&out),
        vec![(
            m3 + 7000,
            Output::Synthesize {
                turn: 3,
                text: "Sorry, I couldn't hear you. Goodbye!".into()
            }
        )]
    );
    let out = h.play(3);
    assert_eq!(ended(&out), vec![EndStatus::Completed]);
    assert_eq!(
        out.last().unwrap().1,
        Output::Hangup {
            reason: HangupReason::NoInput
        }
    );
    assert!(records(&out).is_empty(), "prompts are not engine turns");
}

#[test]
fn speaking_resets_the_no_input_count() {
    let mut h = Harness::new(CallConfig::default());
    let m = welcomed(&mut h);
    h.until(m + 7000);
    h.play(1);
    let (turn, _) = h.say("I'd like to book a table");
    assert_eq!(turn, 2);
    h.play(2);
    let m = h.now;
    let out = h.until(m + 7000);
    assert_eq!(
        events(&out),
        vec![CallEvent::NoInput {
            count: 1,
            at_ms: m + 7000
        }]
    );
    assert_eq!(
        synth(&out).unwrap().1,
        "Sorry, I didn't hear anything. For whom should I book the table?"
    );
}

#[test]
fn caller_hangup_mid_asr_ignores_the_late_result() {
    let mut h = Harness::new(CallConfig::default());
    welcomed(&mut h);
    h.audio(300, false);
    h.audio(800, true);
    let (t, turn, _, _) = h.until_asr();
    let out = h.input(Input::Hangup { at_ms: t + 100 });
    assert_eq!(ended(&out), vec![EndStatus::Completed]);
    assert!(actions(&out).is_empty());
    assert_eq!(h.s.poll_timeout(), None);
    assert!(h.asr(t + 300, turn, "I'd like to book a table").is_empty());
    assert!(h.tts(t + 400, turn, 100, true).is_empty());
    assert!(
        h.input(Input::Hangup { at_ms: t + 500 }).is_empty(),
        "SessionEnded exactly once"
    );
    assert!(h.audio(100, true).is_empty());
}

#[test]
fn empty_or_failed_transcripts_mean_listen_again() {
    let mut h = Harness::new(classic());
    welcomed(&mut h);
    h.audio(300, false);
    h.audio(500, true);
    let (t, turn, _, _) = h.until_asr();
    let out = h.asr(t + 300, turn, "  ");
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(h.s.poll_timeout(), Some(t + 300 + 7000));
    h.audio(500, true);
    let (t, turn, _, _) = h.until_asr();
    let out = h.input(Input::AsrResult {
        at_ms: t + 10,
        turn,
        result: Err(sb_contracts::asr::AsrFailure::Failed(
            "model crashed".into(),
        )),
    });
    assert_eq!(
        events(&out),
        vec![CallEvent::Warning {
            turn,
            message: "ASR failed: model crashed".into()
        }]
    );
    assert_eq!(h.s.poll_timeout(), Some(t + 10 + 7000));
}

#[test]
fn a_mark_that_never_comes_back_is_assumed_after_playback_plus_grace() {
    let mut h = Harness::new(CallConfig::default());
    h.start();
    h.tts(100, 0, 1000, false);
    h.tts(600, 0, 1000, true); // queued behind the first: playback ends at 2100
    assert_eq!(h.s.poll_timeout(), Some(2100 + 3000));
    let out = h.until(5100);
    assert_eq!(records(&out).len(), 1);
    assert_eq!(h.s.poll_timeout(), Some(5100 + 7000), "listening");
}

#[test]
fn stalled_audio_ends_the_utterance() {
    let mut h = Harness::new(classic());
    let m = welcomed(&mut h);
    h.audio(1000, true); // audio from m..m+1000, then the stream goes quiet
    assert_eq!(h.s.poll_timeout(), Some(m + 1000 + 600));
    let out = h.until(m + 1600);
    assert!(
        matches!(actions(&out)[..], [(t, Output::Asr { turn: 1, .. })] if t == m + 1600),
        "{out:?}"
    );
}

#[test]
fn max_call_duration_hangs_up() {
    let mut h = Harness::new(CallConfig {
        max_call_ms: 5000,
        ..CallConfig::default()
    });
    h.start();
    assert_eq!(h.s.poll_timeout(), Some(5000));
    let out = h.until(5000);
    assert_eq!(ended(&out), vec![EndStatus::Completed]);
    assert_eq!(
        out.last().unwrap().1,
        Output::Hangup {
            reason: HangupReason::MaxDuration
        }
    );
}

#[test]
fn abort_fails_the_session() {
    let mut h = Harness::new(CallConfig::default());
    h.start();
    let out = h.input(Input::Abort {
        at_ms: 10,
        error: "socket closed".into(),
    });
    assert_eq!(
        ended(&out),
        vec![EndStatus::Failed {
            error: "socket closed".into()
        }]
    );
    assert_eq!(
        out.last().unwrap().1,
        Output::Hangup {
            reason: HangupReason::Failed
        }
    );
}

#[test]
fn inputs_before_start_and_bad_config() {
    let mut h = Harness::new(CallConfig::default());
    assert!(h.audio(100, true).is_empty());
    assert!(h.asr(5, 0, "hi").is_empty());
    assert_eq!(h.s.poll_timeout(), None);
    let bad = CallConfig {
        dtmf_terminator: '5',
        ..CallConfig::default()
    };
    assert!(CallSession::new(restaurant(), Box::new(ScriptedVad), bad, "x").is_err());
}

/// Deterministic pseudo-random input storms never panic and end the session at most once.
#[test]
fn odd_input_orders_never_panic() {
    let mut seed: u64 = 0x5eed;
    let mut rnd = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for _ in 0..20 {
        let mut h = Harness::new(CallConfig {
            max_no_input: 1,
            no_input_timeout_ms: 500,
            ..CallConfig::default()
        });
        let mut t = 0;
        let mut ends = 0;
        for step in 0..600 {
            t += rnd(40);
            let turn = rnd(6);
            let input = match rnd(12) {
                0 if step > 0 => Input::Start {
                    at_ms: t,
                    utc: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
                },
                0 | 1 => {
                    h.s.poll_timeout()
                        .map_or(Input::Tick { at_ms: t }, |d| Input::Tick {
                            at_ms: d.max(t),
                        })
                }
                2 => Input::Dtmf {
                    at_ms: t,
                    digit: ['1', '#', 'x', '*'][rnd(4) as usize],
                },
                3 => Input::AsrResult {
                    at_ms: t,
                    turn,
                    result: Ok(Transcript {
                        text: ["", "hi", "book a table", "bye"][rnd(4) as usize].into(),
                        confidence: 0.5,
                        words: vec![],
                    }),
                },
                4 => Input::TtsChunk {
                    at_ms: t,
                    turn,
                    pcm16k: vec![1; rnd(400) as usize],
                    last: rnd(2) == 0,
                },
                5 => Input::TtsFailed {
                    at_ms: t,
                    turn,
                    error: "x".into(),
                },
                6 => Input::PlaybackMark {
                    at_ms: t,
                    name: end_mark(turn),
                },
                7 if rnd(50) == 0 => Input::Hangup { at_ms: t },
                _ => Input::Audio {
                    at_ms: t,
                    pcm16k: vec![if rnd(3) == 0 { LOUD } else { 0 }; rnd(700) as usize],
                },
            };
            let input = if step == 0 {
                Input::Start {
                    at_ms: 0,
                    utc: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
                }
            } else {
                input
            };
            let input = if step == 300 && rnd(2) == 0 {
                Input::Tick {
                    at_ms: u64::MAX - 5,
                }
            } else {
                input
            };
            let was_ended = h.s.is_ended();
            let out = h.input(input);
            if was_ended {
                assert!(out.is_empty());
            }
            ends += ended(&out).len();
        }
        assert!(ends <= 1);
    }
}
