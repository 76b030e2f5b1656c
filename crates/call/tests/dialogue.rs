//! Whole conversations with the restaurant agent on a virtual clock.

mod common;
use common::*;
use sb_call::*;
use serde_json::json;

#[test]
fn full_booking_dialogue_with_exact_timings() {
    let mut h = Harness::new(classic());
    let out = h.start();
    assert!(matches!(
        &out[0].1,
        Output::Event(CallEvent::IntentMatched {
            turn: 0,
            at_ms: 0,
            ..
        })
    ));
    assert_eq!(
        actions(&out),
        vec![(
            0,
            Output::Synthesize {
                turn: 0,
                text: WELCOME.into()
            }
        )]
    );
    assert!(h.audio(100, false).is_empty());
    let out = h.tts(100, 0, 1000, false);
    assert_eq!(
        actions(&out),
        vec![(
            100,
            Output::PlayAudio {
                turn: 0,
                pcm16k: vec![7; 16_000]
            }
        )]
    );
    let out = h.tts(100, 0, 500, true);
    assert_eq!(
        actions(&out),
        vec![
            (
                100,
                Output::PlayAudio {
                    turn: 0,
                    pcm16k: vec![7; 8_000]
                }
            ),
            (100, Output::Mark("turn-0-end".into())),
        ]
    );
    assert!(
        h.audio(1500, false).is_empty(),
        "caller silent while the bot speaks"
    );
    let out = h.mark(1600, 0);
    let rec = &records(&out)[0];
    assert_eq!(
        rec.input,
        TurnInput::Event {
            name: "WELCOME".into()
        }
    );
    assert_eq!(rec.intent.as_deref(), Some("Default Welcome Intent"));
    assert_eq!(
        rec.timings,
        TurnTimings {
            speech_end_ms: None,
            asr_ms: None,
            nlu_ms: 0,
            tts_first_audio_ms: Some(100),
            reply_latency_ms: None
        }
    );
    assert_eq!(
        h.s.poll_timeout(),
        Some(1600 + 7000),
        "no-input timer armed at the mark echo"
    );

    // The caller speaks 2000..3500; the end-pointer needs 600 ms of silence.
    assert!(h.audio(400, false).is_empty());
    assert!(h.audio(1500, true).is_empty());
    let (t, turn, pcm, out) = h.until_asr();
    assert_eq!((t, turn), (4080, 1));
    assert_eq!(actions(&out).len(), 1);
    // Pre-roll 300 ms before the start (1700..2000), speech, 300 ms post-roll (3500..3800).
    assert_eq!(pcm.len(), 2100 * 16);
    assert!(pcm[..300 * 16].iter().all(|&s| s == 0));
    assert!(pcm[300 * 16..1800 * 16].iter().all(|&s| s == LOUD));
    assert!(pcm[1800 * 16..].iter().all(|&s| s == 0));
    assert_eq!(
        h.s.poll_timeout(),
        Some(4080 + 20_000),
        "only the ASR watchdog is pending"
    );

    let out = h.asr(
        4480,
        1,
        "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya",
    );
    let Some(CallEvent::IntentMatched {
        turn: 1,
        at_ms: 4480,
        result,
    }) = events(&out).first().cloned()
    else {
        panic!("{out:?}")
    };
    assert_eq!(result.intent_name.as_deref(), Some("Table Booker"));
    assert_eq!(result.parameters["person"], json!({"name": "Tanya"}));
    assert!(result.control.end_interaction);
    let (turn, reply) = synth(&out).unwrap();
    assert_eq!(turn, 1);
    assert!(reply.starts_with("Table booked for Tanya at "), "{reply}");

    let out = h.tts(4780, 1, 1000, true);
    assert_eq!(
        actions(&out),
        vec![
            (
                4780,
                Output::PlayAudio {
                    turn: 1,
                    pcm16k: vec![7; 16_000]
                }
            ),
            (4780, Output::Mark("turn-1-end".into())),
        ],
        "no hang-up before the goodbye has played"
    );
    let out = h.mark(5800, 1);
    let rec = &records(&out)[0];
    assert_eq!(
        rec.input,
        TurnInput::Speech {
            text: "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya".into(),
            confidence: 0.9
        }
    );
    assert_eq!(rec.bot_text, reply);
    assert_eq!(
        rec.timings,
        TurnTimings {
            speech_end_ms: Some(3500),
            asr_ms: Some(980),
            nlu_ms: 0,
            tts_first_audio_ms: Some(300),
            reply_latency_ms: Some(1280),
        },
        "latency counts from the true end of speech, not from the end-pointer's decision"
    );
    assert_eq!(rec.query_result["intent"]["displayName"], "Table Booker");
    assert!(!rec.interrupted);
    assert_eq!(ended(&out), vec![EndStatus::Completed]);
    assert_eq!(
        out.last().unwrap().1,
        Output::Hangup {
            reason: HangupReason::EndOfConversation
        }
    );
    assert_eq!(h.s.poll_timeout(), None);
    assert!(h.s.is_ended());
    assert!(
        h.audio(100, true).is_empty(),
        "audio after the end is ignored"
    );
}

#[test]
fn missing_parameters_are_prompted_for() {
    let mut h = Harness::new(CallConfig::default());
    welcomed(&mut h);
    let (t1, r1) = h.say("I'd like to book a table");
    assert_eq!((t1, r1.as_str()), (1, "For whom should I book the table?"));
    h.play(1);
    assert_eq!(
        h.say("Tanya"),
        (2, "On which date would you like the table?".into())
    );
    h.play(2);
    // "hmm" reads as unfinished: the end of speech hears it again as a new recognition (turn 4).
    assert_eq!(
        h.say("hmm"),
        (4, "Which day would you like to come?".into()),
        "re-prompt variant"
    );
    h.play(4);
    assert_eq!(
        h.say("tomorrow"),
        (5, "At what time would you like the table?".into())
    );
    h.play(5);
    let (turn, reply) = h.say("at 7 pm");
    assert_eq!(turn, 6);
    assert!(reply.starts_with("Table booked for Tanya at "), "{reply}");
    let out = h.play(6);
    assert_eq!(ended(&out), vec![EndStatus::Completed]);
    assert_eq!(
        out.last().unwrap().1,
        Output::Hangup {
            reason: HangupReason::EndOfConversation
        }
    );
}

#[test]
fn live_agent_handoff_after_the_reply_has_played() {
    let mut h = Harness::new(CallConfig::default());
    welcomed(&mut h);
    let (turn, reply) = h.say("I want to speak to an agent");
    assert_eq!(
        reply,
        "Of course. I'm transferring you to one of our team now."
    );
    let t = h.now + 100;
    let out = h.tts(t, turn, 1000, true);
    assert!(ended(&out).is_empty());
    // The handoff message can't be interrupted: caller speech is ignored.
    let out = h.audio(600, true);
    assert!(actions(&out).is_empty(), "{out:?}");
    let out = h.mark(h.now, turn);
    assert_eq!(
        ended(&out),
        vec![EndStatus::LiveAgentHandoff {
            params: json!({"live_agent_handoff": true, "reason": "caller asked for a person"}),
            transfer_to: None,
        }]
    );
    assert_eq!(
        out.last().unwrap().1,
        Output::Hangup {
            reason: HangupReason::LiveAgentHandoff
        }
    );
}

#[test]
fn pause_keeps_state_and_resume_continues() {
    let mut cfg = CallConfig::default();
    cfg.session_params.insert("caller".into(), json!("+441234"));
    let mut h = Harness::new(cfg);
    welcomed(&mut h);
    let (turn, reply) = h.say("I'd like to book a table for Tanya");
    assert_eq!(reply, "On which date would you like the table?");
    h.play(turn);
    let (turn, reply) = h.say("I need to check my calendar");
    assert_eq!(
        reply,
        "No problem. Call us back when you know, and we'll pick up where we left off."
    );
    let out = h.play(turn);
    let Some(CallEvent::SessionEnded { status, state, .. }) = events(&out).last().cloned() else {
        panic!("{out:?}")
    };
    let mut params = serde_json::Map::new();
    params.insert("reason".into(), json!("caller is checking their calendar"));
    assert_eq!(status, EndStatus::Paused { params });
    assert_eq!(state.session_params["caller"], "+441234");
    assert_eq!(*state, h.s.state().clone());
    assert_eq!(
        out.last().unwrap().1,
        Output::Hangup {
            reason: HangupReason::Paused
        }
    );

    // A new call resumes with the saved state and the resume event.
    let cfg = CallConfig {
        resume: Some(Resume {
            state: *state,
            event: Some("RESUME_BOOKING".into()),
        }),
        ..CallConfig::default()
    };
    let mut h = Harness::new(cfg);
    let out = h.start();
    // The booking picks up at the question the pause interrupted, with the name kept.
    assert_eq!(
        synth(&out),
        Some((
            0,
            "Welcome back! On which date would you like the table?".into()
        ))
    );
    assert_eq!(h.s.state().session_params["caller"], "+441234");
    h.play(0);
    let (turn, reply) = h.say("January ninth 2022");
    assert_eq!(reply, "And at what time would you like the table?");
    h.play(turn);
    let (_, reply) = h.say("ten a.m.");
    assert!(
        reply.starts_with("Table booked for Tanya at ") && reply.contains("on 2022-01-09"),
        "{reply}"
    );
}

#[test]
fn caller_hanging_up_during_the_pause_message_stays_paused() {
    let mut h = Harness::new(CallConfig::default());
    welcomed(&mut h);
    let (turn, _) = h.say("I need to check my calendar");
    h.tts(h.now + 100, turn, 1000, true);
    let out = h.input(Input::Hangup { at_ms: h.now + 200 });
    assert!(
        matches!(ended(&out)[..], [EndStatus::Paused { .. }]),
        "{out:?}"
    );
    assert!(
        actions(&out).is_empty(),
        "no hang-up output: the caller is gone"
    );
}

#[test]
fn sentiment_is_analysed_when_enabled() {
    let cfg = CallConfig {
        sentiment: true,
        ..CallConfig::default()
    };
    let s = CallSession::new(restaurant(), Box::new(ScriptedVad), cfg, "CA1").unwrap();
    let mut h = Harness {
        s: s.with_sentiment(std::sync::Arc::new(Grumpy)),
        now: 0,
    };
    welcomed(&mut h);
    let (turn, _) = h.say("this is terrible, I hate waiting");
    let out = h.play(turn);
    let rec = &records(&out)[0];
    let (score, magnitude) = rec.sentiment.expect("sentiment");
    assert!(score < -0.3 && magnitude > 0.3, "{score} {magnitude}");
    assert_eq!(
        rec.query_result["sentimentAnalysisResult"]["queryTextSentiment"]["score"],
        json!(score)
    );
}

/// Scores "hate" as strongly negative, anything else as neutral.
struct Grumpy;

impl sb_contracts::sentiment::Sentiment for Grumpy {
    fn analyze(&self, text: &str) -> sb_contracts::sentiment::SentimentScore {
        let score = if text.contains("hate") { -0.8 } else { 0.0 };
        sb_contracts::sentiment::SentimentScore {
            score,
            magnitude: score.abs(),
        }
    }
}

fn restaurant_with_webhook() -> std::sync::Arc<sb_nlu::engine::Engine> {
    let mut agent = sb_nlu::import::load(&repo("examples/restaurant")).unwrap();
    agent.webhook = Some(sb_nlu::agent::WebhookConfig {
        url: "http://hook.test/df".into(),
        ..Default::default()
    });
    for i in agent
        .intents
        .iter_mut()
        .filter(|i| i.name == "Table Booker")
    {
        i.webhook_used = true;
    }
    std::sync::Arc::new(sb_nlu::engine::Engine::new(agent).unwrap())
}

const BOOKING: &str = "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya";

#[test]
fn webhook_request_and_result_resume_the_turn() {
    let mut h = Harness::with_engine(restaurant_with_webhook(), CallConfig::default());
    welcomed(&mut h);
    h.audio(300, false);
    h.audio(1000, true);
    let (t, turn, _, _) = h.until_asr();
    let out = h.asr(t + 200, turn, BOOKING);
    let [(
        _,
        Output::Webhook {
            turn: 1,
            request,
            webhook,
        },
    )] = &actions(&out)[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(webhook.url, "http://hook.test/df");
    assert_eq!(
        request.session,
        "projects/demo-restaurant/agent/sessions/CA123"
    );
    assert_eq!(
        request.query_result["intent"]["displayName"],
        "Table Booker"
    );
    assert_eq!(
        request.original_detect_intent_request["source"],
        "switchboard"
    );
    assert!(
        events(&out).is_empty(),
        "intent reported once the webhook answered"
    );
    assert_eq!(h.s.poll_timeout(), Some(t + 200 + 20_000));
    let reply = sb_nlu::webhook::WebhookResponse {
        fulfillment_text: Some("Booked via webhook.".into()),
        ..Default::default()
    };
    let ok = || sb_nlu::webhook::WebhookOutcome::Ok(reply.clone());
    assert!(
        h.input(Input::WebhookResult {
            at_ms: t + 250,
            turn: 0,
            outcome: ok()
        })
        .is_empty(),
        "wrong turn"
    );
    let out = h.input(Input::WebhookResult {
        at_ms: t + 400,
        turn: 1,
        outcome: ok(),
    });
    assert_eq!(synth(&out), Some((1, "Booked via webhook.".into())));
    let out = h.play(1);
    assert_eq!(
        records(&out)[0].timings.nlu_ms,
        200,
        "the webhook round trip counts as NLU time"
    );
    assert_eq!(ended(&out), vec![EndStatus::Completed]);
}

#[test]
fn unanswered_webhook_times_out_to_the_static_response() {
    let mut h = Harness::with_engine(restaurant_with_webhook(), CallConfig::default());
    welcomed(&mut h);
    h.audio(300, false);
    h.audio(1000, true);
    let (t, turn, _, _) = h.until_asr();
    h.asr(t + 200, turn, BOOKING);
    let out = h.until(t + 200 + 20_000);
    let Some(CallEvent::IntentMatched { result, .. }) = events(&out).first().cloned() else {
        panic!("{out:?}")
    };
    assert_eq!(result.webhook_status.as_ref().unwrap()["code"], 4);
    assert!(synth(&out).unwrap().1.starts_with("Table booked for Tanya"));
}
