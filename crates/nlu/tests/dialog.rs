//! Dialog behaviour on the example restaurant agent and the shared Dialogflow exports.

use chrono::{TimeZone, Utc};
use sb_nlu::dialog::*;
use sb_nlu::engine::Engine;
use sb_nlu::webhook::{EventInput, WebhookOutcome, WebhookResponse, WireContext};
use serde_json::{json, Value};
use std::path::PathBuf;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}
fn shared(name: &str) -> Option<PathBuf> {
    let p = repo("../shared/agents").join(name);
    if p.exists() {
        return Some(p);
    }
    // Missing data fails the test; skipping is a developer opt-out that CI never sets.
    let what = format!(
        "{} is missing: the tests read the shared DF ES exports from ../shared/agents next to the checkout",
        p.display()
    );
    if std::env::var("SWITCHBOARD_TEST_ALLOW_SKIP").as_deref() == Ok("1") {
        eprintln!("SKIPPED: {what}");
        return None;
    }
    panic!("{what}");
}

struct Chat<'a> {
    engine: &'a Engine,
    state: SessionState,
    session: String,
}

impl<'a> Chat<'a> {
    fn new(engine: &'a Engine) -> Self {
        Chat {
            engine,
            state: SessionState::default(),
            session: "projects/demo/agent/sessions/test-session".into(),
        }
    }
    fn req(&self, input: QueryInput) -> TurnRequest {
        TurnRequest {
            session: self.session.clone(),
            input,
            params: QueryParams::default(),
            // Wednesday 5 January 2022, 15:00 UTC
            now: Utc.with_ymd_and_hms(2022, 1, 5, 15, 0, 0).unwrap(),
            sentiment: None,
            speech_confidence: None,
            source: "test".into(),
        }
    }
    fn step(&mut self, input: QueryInput) -> TurnStep {
        let r = self.req(input);
        self.engine.begin(&mut self.state, r)
    }
    fn done(&mut self, input: QueryInput) -> TurnResult {
        match self.step(input) {
            TurnStep::Done(r) => r,
            // Agents whose webhook lives in the cloud: answer as an unreachable webhook would.
            TurnStep::Webhook(p) => match self.engine.resume(
                &mut self.state,
                *p,
                WebhookOutcome::Failed {
                    code: 14,
                    message: "unreachable".into(),
                },
            ) {
                TurnStep::Done(r) => r,
                TurnStep::Webhook(_) => panic!("a failed webhook must finish the turn"),
            },
        }
    }
    fn say(&mut self, text: &str) -> TurnResult {
        self.done(QueryInput::Text {
            text: text.into(),
            language_code: "en".into(),
        })
    }
    fn event(&mut self, name: &str) -> TurnResult {
        self.done(QueryInput::Event {
            name: name.into(),
            parameters: Default::default(),
            language_code: "en".into(),
        })
    }
}

fn restaurant() -> Engine {
    Engine::load(&repo("examples/restaurant")).expect("restaurant agent loads")
}

#[test]
fn restaurant_books_the_reference_table_in_one_sentence() {
    let e = restaurant();
    let mut c = Chat::new(&e);
    let w = c.event("WELCOME");
    assert_eq!(w.reply_text, "Welcome to our Demonstration Restaurant. When and for whom would you like to book a table?");
    let r = c.say("I'd like to book a table at 10:00 am on 01/09/2022 for Tanya");
    assert_eq!(r.intent_name.as_deref(), Some("Table Booker"));
    assert_eq!(r.parameters["person"], json!({"name": "Tanya"}));
    assert_eq!(r.parameters["date"], json!("2022-01-09T12:00:00+00:00"));
    assert!(
        r.parameters["time"].as_str().unwrap().contains("T10:00:00"),
        "{:?}",
        r.parameters["time"]
    );
    assert!(
        r.reply_text.starts_with("Table booked for Tanya at "),
        "{}",
        r.reply_text
    );
    assert!(r.all_required_params_present);
    assert!(r.control.end_interaction);
    let q = &r.query_result;
    assert_eq!(q["intent"]["displayName"], "Table Booker");
    assert_eq!(
        q["queryText"],
        "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya"
    );
    assert_eq!(q["diagnosticInfo"]["end_conversation"], true);
    assert!(q["intent"]["name"]
        .as_str()
        .unwrap()
        .starts_with("projects/demo/agent/intents/"));
}

#[test]
fn restaurant_prompts_for_what_is_missing() {
    let e = restaurant();
    let mut c = Chat::new(&e);
    let r = c.say("I'd like to book a table");
    assert_eq!(r.intent_name.as_deref(), Some("Table Booker"));
    assert!(!r.all_required_params_present);
    assert_eq!(r.reply_text, "For whom should I book the table?");
    assert_eq!(r.query_result["parameters"]["person"], "");
    let r = c.say("Tanya");
    assert_eq!(r.reply_text, "On which date would you like the table?");
    let r = c.say("hmm");
    assert_eq!(
        r.reply_text, "Which day would you like to come?",
        "re-prompt uses the next variant"
    );
    let r = c.say("tomorrow");
    assert_eq!(r.reply_text, "At what time would you like the table?");
    let r = c.say("at 7 pm");
    assert!(r.all_required_params_present);
    assert_eq!(r.parameters["date"], json!("2022-01-06T12:00:00+00:00"));
    assert!(
        r.reply_text
            .starts_with("Table booked for Tanya at 2022-01-0"),
        "{}",
        r.reply_text
    );
    assert!(r.parameters["time"].as_str().unwrap().contains("T19:00:00"));
}

#[test]
fn restaurant_falls_back_hands_off_and_pauses() {
    let e = restaurant();
    let mut c = Chat::new(&e);
    let r = c.say("what is the airspeed velocity of an unladen swallow");
    assert_eq!(r.intent_name.as_deref(), Some("Default Fallback Intent"));
    assert_eq!(r.query_result["intent"]["isFallback"], true);
    let r = c.say("I want to speak to an agent");
    assert_eq!(r.intent_name.as_deref(), Some("Live Agent Handoff"));
    assert_eq!(
        r.control.live_agent_handoff.as_ref().unwrap()["live_agent_handoff"],
        true
    );
    let r = c.say("hold on, I need to check my calendar");
    assert_eq!(r.intent_name.as_deref(), Some("Check Calendar"));
    assert_eq!(
        r.control.pause.as_ref().unwrap()["reason"],
        "caller is checking their calendar"
    );
}

/// Dialogflow activates an intent's output contexts from its match on, while it still asks for
/// parameters; an interruption (here a pause) leaves the values there for a later intent's
/// `#booking.person` defaults.
#[test]
fn slot_filling_sets_output_contexts_and_a_resume_picks_them_up() {
    let e = restaurant();
    let mut c = Chat::new(&e);
    let r = c.say("I'd like to book a table for Tanya");
    assert_eq!(r.reply_text, "On which date would you like the table?");
    let ctxs = r.query_result["outputContexts"]
        .as_array()
        .expect("contexts");
    let booking = ctxs
        .iter()
        .find(|c| {
            c["name"]
                .as_str()
                .unwrap_or("")
                .ends_with("/contexts/booking")
        })
        .expect("booking context");
    assert_eq!(booking["lifespanCount"], 5);
    assert_eq!(booking["parameters"]["person"], json!({"name": "Tanya"}));
    assert_eq!(booking["parameters"]["date"], "");
    let r = c.say("I need to check my calendar");
    assert_eq!(r.intent_name.as_deref(), Some("Check Calendar"));
    let r = c.event("RESUME_BOOKING");
    assert_eq!(r.intent_name.as_deref(), Some("Resume Booking"));
    assert_eq!(
        r.reply_text,
        "Welcome back! On which date would you like the table?"
    );
    assert_eq!(
        r.query_result["parameters"]["person"],
        json!({"name": "Tanya"})
    );
    let r = c.say("on the 9th of January");
    assert_eq!(r.reply_text, "And at what time would you like the table?");
    let r = c.say("at 10 am");
    assert!(r.all_required_params_present);
    assert!(
        r.reply_text.starts_with("Table booked for Tanya at "),
        "{}",
        r.reply_text
    );
    assert!(r.control.end_interaction);
}

#[test]
fn follow_up_intents_need_their_context() {
    let Some(dir) = shared("telephony") else {
        return eprintln!("skipped: shared agents missing");
    };
    let e = Engine::load(&dir).unwrap();
    let mut c = Chat::new(&e);
    let r = c.say("yes");
    assert_ne!(
        r.intent_name.as_deref(),
        Some("Default Welcome Intent - yes"),
        "no context yet"
    );
    let mut c = Chat::new(&e);
    let w = c.event("WELCOME");
    assert_eq!(w.intent_name.as_deref(), Some("Default Welcome Intent"));
    let ctx = &w.query_result["outputContexts"][0];
    assert_eq!(
        ctx["name"],
        "projects/demo/agent/sessions/test-session/contexts/defaultwelcomeintent-followup"
    );
    assert_eq!(ctx["lifespanCount"], 2);
    let r = c.say("yep");
    assert_eq!(
        r.intent_name.as_deref(),
        Some("Default Welcome Intent - yes")
    );
}

#[test]
fn contexts_carry_parameters_to_follow_ups_and_expire() {
    let Some(dir) = shared("bike-shop") else {
        return eprintln!("skipped: shared agents missing");
    };
    let e = Engine::load(&dir).unwrap();
    let mut c = Chat::new(&e);
    // The webhook of "Make Appointment" is not configured in this export: no call.
    let r = c.say("I'd like to make an appointment for tomorrow at 3pm");
    assert_eq!(r.intent_name.as_deref(), Some("Make Appointment"));
    assert!(r.all_required_params_present, "{:?}", r.parameters);
    let r = c.say("I need a repair");
    assert_eq!(r.intent_name.as_deref(), Some("Make Appointment - custom"));
    assert_eq!(r.parameters["AppointmentType"], "fix");
    assert!(
        r.reply_text
            .contains("schedule a fix for tomorrow, 2022-01-06T12:00:00"),
        "{}",
        r.reply_text
    );
    // lifespan 2: gone after two more turns
    c.say("hello");
    assert!(
        c.state
            .contexts
            .iter()
            .all(|x| x.name != "makeappointment-followup"),
        "{:?}",
        c.state.contexts
    );
}

#[test]
fn query_params_contexts_reset_and_session_params() {
    let e = restaurant();
    let mut c = Chat::new(&e);
    let mut req = c.req(QueryInput::Text {
        text: "hello".into(),
        language_code: "en".into(),
    });
    req.params.contexts = vec![ActiveContext {
        name: "projects/x/agent/sessions/y/contexts/Custom".into(),
        lifespan: 3,
        parameters: Default::default(),
    }];
    req.params
        .session_params
        .insert("caller".into(), json!("+15550001111"));
    let TurnStep::Done(r) = e.begin(&mut c.state, req) else {
        panic!()
    };
    assert_eq!(
        r.query_result["outputContexts"][0]["name"],
        "projects/demo/agent/sessions/test-session/contexts/custom"
    );
    assert_eq!(c.state.session_params["caller"], "+15550001111");
    let mut req = c.req(QueryInput::Text {
        text: "hello".into(),
        language_code: "en".into(),
    });
    req.params.reset_contexts = true;
    let TurnStep::Done(r) = e.begin(&mut c.state, req) else {
        panic!()
    };
    assert!(r.query_result.get("outputContexts").is_none());
}

fn adlib() -> Option<Engine> {
    let dir = shared("slot-filling")?;
    let mut agent = sb_nlu::import::load(&dir).unwrap();
    agent.webhook = Some(sb_nlu::agent::WebhookConfig {
        url: "http://127.0.0.1:9/hook".into(),
        ..Default::default()
    });
    Some(Engine::new(agent).unwrap())
}

#[test]
fn webhook_for_slot_filling_and_failure_keeps_static_response() {
    let Some(e) = adlib() else {
        return eprintln!("skipped: shared agents missing");
    };
    let mut c = Chat::new(&e);
    let TurnStep::Webhook(p) = c.step(QueryInput::Text {
        text: "Iceland 1985 orange".into(),
        language_code: "en".into(),
    }) else {
        panic!("webhook expected")
    };
    assert_eq!(
        p.request.session,
        "projects/demo/agent/sessions/test-session"
    );
    assert_eq!(
        p.request.query_result["intent"]["displayName"],
        "makeAdlibStory"
    );
    assert_eq!(p.request.original_detect_intent_request["source"], "test");
    let TurnStep::Done(r) = e.resume(
        &mut c.state,
        *p,
        WebhookOutcome::Failed {
            code: 4,
            message: "Webhook call failed. Error: DEADLINE_EXCEEDED.".into(),
        },
    ) else {
        panic!()
    };
    assert_eq!(r.webhook_status.as_ref().unwrap()["code"], 4);
    assert!(
        r.reply_text.contains("back in the year 1985"),
        "{}",
        r.reply_text
    );
    assert!(
        r.reply_text
            .contains("orange -bellied fox was introduced to Iceland"),
        "{}",
        r.reply_text
    );
    assert_eq!(r.to_detect_intent_response()["webhookStatus"]["code"], 4);
}

#[test]
fn webhook_reply_overrides_text_and_contexts_and_chains_events() {
    let Some(e) = adlib() else {
        return eprintln!("skipped: shared agents missing");
    };
    let mut c = Chat::new(&e);
    let TurnStep::Webhook(p) = c.step(QueryInput::Text {
        text: "Canada green 1955".into(),
        language_code: "en".into(),
    }) else {
        panic!()
    };
    let reply = WebhookResponse {
        fulfillment_text: Some("From the webhook".into()),
        output_contexts: Some(vec![WireContext {
            name: "projects/demo/agent/sessions/test-session/contexts/Story".into(),
            lifespan_count: Some(4),
            parameters: Some(json!({"k": 1}).as_object().unwrap().clone()),
        }]),
        payload: Some(
            json!({"live_agent_handoff": true})
                .as_object()
                .unwrap()
                .clone(),
        ),
        source: Some("hook".into()),
        ..Default::default()
    };
    let TurnStep::Done(r) = e.resume(&mut c.state, *p, WebhookOutcome::Ok(reply)) else {
        panic!()
    };
    assert_eq!(r.reply_text, "From the webhook");
    assert_eq!(
        r.query_result["fulfillmentMessages"],
        json!([{"text": {"text": ["From the webhook"]}}])
    );
    assert_eq!(r.query_result["webhookSource"], "hook");
    assert_eq!(
        r.webhook_status.as_ref().unwrap()["message"],
        "Webhook execution successful"
    );
    assert!(r.control.live_agent_handoff.is_some());
    assert!(c
        .state
        .contexts
        .iter()
        .any(|x| x.name == "story" && x.lifespan == 4 && x.parameters["k"] == 1));

    let TurnStep::Webhook(p) = c.step(QueryInput::Text {
        text: "France blue 1999".into(),
        language_code: "en".into(),
    }) else {
        panic!()
    };
    let reply = WebhookResponse {
        followup_event_input: Some(EventInput {
            name: "WELCOME".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let TurnStep::Done(r) = e.resume(&mut c.state, *p, WebhookOutcome::Ok(reply)) else {
        panic!()
    };
    assert_eq!(r.intent_name.as_deref(), Some("Default Welcome Intent"));
}

#[test]
fn garbage_webhook_bodies_become_failures() {
    match WebhookOutcome::from_body(200, b"<html>oops") {
        WebhookOutcome::Failed { code, message } => {
            assert_eq!(code, 13);
            assert!(message.contains("Failed to parse webhook JSON response"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        WebhookOutcome::from_body(500, b"{}"),
        WebhookOutcome::Failed { code: 14, .. }
    ));
    assert!(matches!(
        WebhookOutcome::from_body(200, br#"{"fulfillmentText":"ok","unknown":1}"#),
        WebhookOutcome::Ok(_)
    ));
    let _: Value = json!(null);
}

#[test]
fn odd_inputs_never_panic() {
    let e = restaurant();
    let mut c = Chat::new(&e);
    let long = "table ".repeat(2000);
    for text in [
        "",
        " ",
        "\u{0}",
        "🍕🍕🍕",
        "$person #ctx.x $session.params.",
        "10/10/10/10/10",
        "at at at on on",
        long.as_str(),
        "ÅÄÖ ß ﬁ ǅ",
        "\n\t",
    ] {
        let r = c.say(text);
        assert!(
            r.intent_name.is_some(),
            "{text:?} still answered (fallback at worst)"
        );
    }
    // Dialogflow answers an event no intent takes with the fallback intent.
    let r = c.event("NO_SUCH_EVENT");
    assert_eq!(r.intent_name.as_deref(), Some("Default Fallback Intent"));
    assert!(!r.reply_text.is_empty());
}
