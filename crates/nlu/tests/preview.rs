//! `Engine::preview`: what a query would do, read without taking the turn. It must leave the
//! session as it was and agree with the turn `Engine::begin` then takes.

use chrono::{TimeZone, Utc};
use sb_nlu::dialog::*;
use sb_nlu::engine::Engine;
use serde_json::json;
use std::path::PathBuf;
use std::sync::OnceLock;

fn restaurant() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/restaurant");
        Engine::load(&p).expect("the example agent loads")
    })
}

fn req(input: QueryInput) -> TurnRequest {
    TurnRequest {
        session: "projects/demo/agent/sessions/preview".into(),
        input,
        params: QueryParams::default(),
        now: Utc.with_ymd_and_hms(2022, 1, 5, 15, 0, 0).unwrap(),
        sentiment: None,
        speech_confidence: None,
        source: "test".into(),
    }
}

fn text(t: &str) -> TurnRequest {
    req(QueryInput::Text {
        text: t.into(),
        language_code: "en".into(),
    })
}

fn event(name: &str) -> TurnRequest {
    req(QueryInput::Event {
        name: name.into(),
        parameters: Default::default(),
        language_code: "en".into(),
    })
}

fn result(step: TurnStep) -> TurnResult {
    match step {
        TurnStep::Done(r) => r,
        TurnStep::Webhook(_) => panic!("the example agent calls no webhook"),
    }
}

/// A session asking for the booking's date (the name and time given).
fn asking_for_the_date() -> SessionState {
    let e = restaurant();
    let mut s = SessionState::default();
    result(e.begin(&mut s, event("WELCOME")));
    let r = result(e.begin(&mut s, text("A table for Tanya at 10 am please")));
    assert_eq!(r.intent_name.as_deref(), Some("Table Booker"));
    assert!(!r.all_required_params_present);
    assert_eq!(
        s.slot_filling.as_ref().map(|sf| sf.asking.as_str()),
        Some("date")
    );
    s
}

const QUERIES: &[&str] = &[
    "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya.",
    "I'd like to book a table for Tanya",
    "on January ninth",
    "the ninth",
    "cancel",
    "I want to talk to a person",
    "purple monkey dishwasher",
    "goodbye",
];

#[test]
fn a_preview_leaves_the_session_as_it_was() {
    let e = restaurant();
    for state in [SessionState::default(), asking_for_the_date()] {
        let before = state.clone();
        for q in QUERIES {
            e.preview(&state, &text(q));
            assert_eq!(state, before, "after previewing {q:?}");
        }
        e.preview(&state, &event("WELCOME"));
        assert_eq!(state, before);
    }
}

#[test]
fn a_preview_agrees_with_the_turn_it_previews() {
    let e = restaurant();
    for start in [SessionState::default(), asking_for_the_date()] {
        for q in QUERIES {
            let p = e.preview(&start, &text(q));
            let mut s = start.clone();
            let r = result(e.begin(&mut s, text(q)));
            assert_eq!(p.intent, r.intent_name, "{q:?}");
            assert_eq!(p.confidence, r.confidence, "{q:?}");
            assert_eq!(
                p.all_required_params_present, r.all_required_params_present,
                "{q:?}"
            );
            assert_eq!(p.parameters, r.parameters, "{q:?}");
            let fallback = r.query_result.pointer("/intent/isFallback") == Some(&json!(true));
            assert_eq!(p.is_fallback, fallback, "{q:?}");
        }
    }
}

#[test]
fn whole_turns_need_every_parameter_or_the_answer_to_the_prompt() {
    let e = restaurant();
    let fresh = SessionState::default();
    let whole = |s: &SessionState, q: &str| e.preview(s, &text(q)).is_whole_turn();
    assert!(whole(
        &fresh,
        "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya."
    ));
    // A new booking still missing its date and time: the caller may go on.
    let p = e.preview(&fresh, &text("I'd like to book a table for Tanya"));
    assert_eq!(p.intent.as_deref(), Some("Table Booker"));
    assert!(!p.all_required_params_present && !p.answers_prompt);
    assert!(!p.is_whole_turn());
    // The answer to the prompt for the date is a whole turn.
    let asking = asking_for_the_date();
    let p = e.preview(&asking, &text("on January ninth"));
    assert!(p.answers_prompt, "{p:?}");
    assert!(p.is_whole_turn());
    assert_eq!(p.parameters.get("person"), Some(&json!({"name": "Tanya"})));
    // Nothing the agent understands is no turn to take early.
    let p = e.preview(&fresh, &text("purple monkey dishwasher"));
    assert!(p.is_fallback && !p.is_whole_turn(), "{p:?}");
}

#[test]
fn a_cancelled_booking_previews_without_what_it_collected() {
    let e = restaurant();
    let asking = asking_for_the_date();
    let p = e.preview(&asking, &text("cancel"));
    let mut s = asking.clone();
    let r = result(e.begin(&mut s, text("cancel")));
    assert_eq!(p.intent, r.intent_name);
    assert!(!p.answers_prompt);
    assert!(
        asking.slot_filling.is_some(),
        "the preview kept slot filling"
    );
    assert!(s.slot_filling.is_none(), "the turn left it");
}
