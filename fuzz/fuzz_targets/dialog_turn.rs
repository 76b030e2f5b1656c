//! A whole text conversation as the server runs it, minus HTTP: each `detectIntent` body is
//! parsed (the server's own `parse_body`), the turn runs on the example agent
//! (`examples/restaurant`: intent classifier, system and developer entities, slot filling,
//! contexts, templates), and a turn that calls the webhook is resumed with a fuzzed reply.
//! The user's text and parameters are the outside input the NLU parses.
//!
//! Input: up to 4 turns separated by `\0`; each turn is a detectIntent body, then optionally `\x01` and
//! the webhook's reply body (V2; an absent reply is a failed call).
//!
//! Checks: no panic; confidences are in [0, 1]; the reply is in the DetectIntentResponse; the
//! session state, persisted as JSON between turns, reads back the same (floats to within ulps).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sb_nlu::dialog::{SessionState, TurnRequest, TurnStep};
use sb_nlu::engine::Engine;
use sb_nlu::webhook::{WebhookFailure, WebhookFormat, WebhookOutcome};
use serde_json::Value;
use std::sync::OnceLock;

include!("common/detect_shims.rs");

#[path = "common/json_eq.rs"]
mod json_eq;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/restaurant");
        Engine::load(std::path::Path::new(dir)).expect("the example agent loads")
    })
}

const SESSION: &str = "projects/p/agent/sessions/fuzz";

fuzz_target!(|data: &[u8]| {
    let engine = engine();
    let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a valid time");
    let mut state = SessionState::default();
    for turn in data.split(|&b| b == 0).take(4) {
        let (body, reply) = match turn.iter().position(|&b| b == 1) {
            Some(i) => (&turn[..i], Some(&turn[i + 1..])),
            None => (turn, None),
        };
        let Ok(input) = detect::parse_body(body, SESSION.to_string(), &engine.agent.language)
        else {
            continue;
        };
        let req = TurnRequest {
            session: input.session,
            input: input.input,
            params: input.params,
            now,
            sentiment: None,
            speech_confidence: None,
            source: input.source,
        };
        let mut step = engine.begin(&mut state, req);
        let mut hops = 0;
        let result = loop {
            match step {
                TurnStep::Done(r) => break r,
                TurnStep::Webhook(pending) => {
                    hops += 1;
                    assert!(hops <= 16, "webhook round trips are bounded");
                    let outcome = match reply {
                        Some(b) => WebhookOutcome::from_body(200, b),
                        None => WebhookFailure::Timeout.outcome(WebhookFormat::V2),
                    };
                    step = engine.resume(&mut state, *pending, outcome);
                }
            }
        };
        assert!(
            (0.0..=1.0).contains(&result.confidence),
            "{}",
            result.confidence
        );
        let response = result.to_detect_intent_response();
        let text = response["queryResult"]["fulfillmentText"].as_str();
        assert!(text.is_none_or(|t| t == result.reply_text) || result.reply_text.is_empty());
        serde_json::to_string(&response).expect("the response serializes");

        // The store keeps the session as JSON between turns.
        let saved = serde_json::to_string(&state).expect("state serializes");
        let loaded: SessionState = serde_json::from_str(&saved).expect("state reads back");
        let (a, b) = (
            serde_json::to_value(&loaded).expect("value"),
            serde_json::to_value(&state).expect("value"),
        );
        assert!(
            json_eq::same(&a, &b),
            "state changed through JSON:\n{a}\n{b}"
        );
        state = loaded;
    }
    let _: Value = serde_json::to_value(&state).expect("value");
});
