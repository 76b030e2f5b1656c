//! Confirmation of values heard with low confidence (agent.json `switchboard.confirmBelowConfidence`),
//! on the example restaurant agent.

use chrono::{TimeZone, Utc};
use sb_nlu::dialog::*;
use sb_nlu::engine::Engine;
use std::path::PathBuf;

fn restaurant(confirm_below: Option<f32>) -> Engine {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/restaurant");
    let mut agent = sb_nlu::import::load(&dir).expect("load the example agent");
    agent.confirm_below = confirm_below;
    Engine::new(agent).expect("train")
}

struct Call<'a> {
    engine: &'a Engine,
    state: SessionState,
}

impl Call<'_> {
    /// One caller utterance, recognised with `confidence`.
    fn hear(&mut self, text: &str, confidence: f32) -> TurnResult {
        let req = TurnRequest {
            session: "projects/demo/agent/sessions/confirm".into(),
            input: QueryInput::Text {
                text: text.into(),
                language_code: "en".into(),
            },
            params: QueryParams::default(),
            now: Utc.with_ymd_and_hms(2022, 1, 5, 15, 0, 0).unwrap(),
            sentiment: None,
            speech_confidence: Some(confidence),
            source: "twilio".into(),
        };
        match self.engine.begin(&mut self.state, req) {
            TurnStep::Done(r) => r,
            TurnStep::Webhook(_) => panic!("the example agent has no webhook"),
        }
    }
}

const BOOKING: &str = "a table for Anna on the 9th of January at 8 pm";

fn booked(r: &TurnResult) -> bool {
    r.reply_text.starts_with("Table booked")
}

#[test]
fn off_by_default_a_low_confidence_booking_is_fulfilled_at_once() {
    let engine = restaurant(None);
    let mut call = Call {
        engine: &engine,
        state: SessionState::default(),
    };
    let r = call.hear(BOOKING, 0.2);
    assert!(booked(&r), "{}", r.reply_text);
}

#[test]
fn a_confident_booking_is_not_questioned() {
    let engine = restaurant(Some(0.5));
    let mut call = Call {
        engine: &engine,
        state: SessionState::default(),
    };
    let r = call.hear(BOOKING, 0.9);
    assert!(booked(&r), "{}", r.reply_text);
}

#[test]
fn an_unsure_booking_is_confirmed_and_yes_books_it() {
    let engine = restaurant(Some(0.5));
    let mut call = Call {
        engine: &engine,
        state: SessionState::default(),
    };
    let r = call.hear(BOOKING, 0.3);
    assert!(
        r.reply_text.starts_with("Was that Anna"),
        "{}",
        r.reply_text
    );
    assert!(!r.all_required_params_present);
    assert_eq!(r.intent_name.as_deref(), Some("Table Booker"));
    assert!(!booked(&r));
    // Neither yes nor no: the question stands.
    let r = call.hear("sorry what", 0.9);
    assert!(
        r.reply_text.starts_with("Was that Anna"),
        "{}",
        r.reply_text
    );
    let r = call.hear("yes", 0.4);
    assert!(booked(&r), "{}", r.reply_text);
    assert_eq!(r.parameters["person"]["name"], "Anna");
    assert!(r.all_required_params_present);
}

#[test]
fn no_with_a_correction_replaces_the_value_and_books() {
    let engine = restaurant(Some(0.5));
    let mut call = Call {
        engine: &engine,
        state: SessionState::default(),
    };
    let r = call.hear(BOOKING, 0.3);
    assert!(r.reply_text.starts_with("Was that"), "{}", r.reply_text);
    let r = call.hear("no, Hannah", 0.9);
    assert!(booked(&r), "{}", r.reply_text);
    assert_eq!(r.parameters["person"]["name"], "Hannah");
    // The confident parts of the booking are kept.
    assert!(r.parameters["time"].as_str().unwrap().contains("T20:00:00"));
}

#[test]
fn a_plain_no_asks_again_for_what_was_unsure() {
    let engine = restaurant(Some(0.5));
    let mut call = Call {
        engine: &engine,
        state: SessionState::default(),
    };
    call.hear(BOOKING, 0.3);
    let r = call.hear("no", 0.9);
    // Slot filling asks for the first parameter again.
    assert!(!booked(&r), "{}", r.reply_text);
    assert!(
        r.reply_text.contains("whom") || r.reply_text.contains("name"),
        "{}",
        r.reply_text
    );
    let r = call.hear("Hannah", 0.9);
    assert!(
        r.reply_text.contains("date") || r.reply_text.contains("day") || booked(&r),
        "{}",
        r.reply_text
    );
}

#[test]
fn an_unsure_answer_in_slot_filling_is_confirmed_once_all_is_there() {
    let engine = restaurant(Some(0.5));
    let mut call = Call {
        engine: &engine,
        state: SessionState::default(),
    };
    let r = call.hear("I'd like to book a table", 0.9);
    assert!(!booked(&r));
    call.hear("Anna", 0.2); // unsure name
    call.hear("on the 9th of January", 0.9);
    let r = call.hear("at 8 pm", 0.9);
    assert_eq!(r.reply_text, "Was that Anna?");
    let r = call.hear("that's right", 0.9);
    assert!(booked(&r), "{}", r.reply_text);
}

#[test]
fn the_option_is_read_from_agent_json() {
    let dir = std::env::temp_dir().join(format!("sb-confirm-agent-{}", std::process::id()));
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/restaurant");
    std::fs::create_dir_all(dir.join("intents")).unwrap();
    for e in std::fs::read_dir(src.join("intents")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("intents").join(e.file_name())).unwrap();
    }
    let mut agent: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("agent.json")).unwrap()).unwrap();
    agent["switchboard"] = serde_json::json!({"confirmBelowConfidence": 0.45});
    std::fs::write(dir.join("agent.json"), agent.to_string()).unwrap();
    let loaded = sb_nlu::import::load(&dir).expect("load");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(loaded.confirm_below, Some(0.45));
    let plain = sb_nlu::import::load(&src).expect("load");
    assert_eq!(plain.confirm_below, None);
}
