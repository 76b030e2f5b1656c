//! Small agents in Dialogflow's export layout whose intents are picked by DTMF (so fake speech
//! engines carry a whole call): `1` hands off, `2` ends the conversation, `3` pauses with a
//! payload that names a session parameter, `4` starts a booking whose guests are asked for and
//! then pauses for payment (the resume event `PAID` confirms it). Its export also has Spanish
//! (`supportedLanguages`), where the welcome and `2` answer.

use serde_json::{json, Value};
use std::path::Path;

fn write(dir: &Path, name: &str, v: &Value) {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

/// One intent file (+ one training phrase when `phrase` is set).
pub fn intent(dir: &Path, name: &str, phrase: Option<&str>, body: Value) {
    let mut v = json!({"id": format!("id-{name}"), "name": name, "events": [],
                       "responses": [{"messages": [], "parameters": []}]});
    if let (Value::Object(m), Value::Object(b)) = (&mut v, body) {
        m.extend(b);
    }
    write(&dir.join("intents"), &format!("{name}.json"), &v);
    if let Some(p) = phrase {
        write(
            &dir.join("intents"),
            &format!("{name}_usersays_en.json"),
            &json!([{"data": [{"text": p}], "isTemplate": false, "count": 0}]),
        );
    }
}

fn text(t: &str) -> Value {
    text_in("en", t)
}

fn text_in(lang: &str, t: &str) -> Value {
    json!({"type": 0, "lang": lang, "speech": t})
}

/// The DTMF agent (see the module docs).
pub fn dtmf_agent() -> tempfile::TempDir {
    dtmf_agent_with(None)
}

/// The DTMF agent with a webhook at `webhook` (if any), which `6` (Twilio's caller) and `7`
/// (Vonage's) call; their replies name the caller from `$session.params`.
pub fn dtmf_agent_with(webhook: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("intents")).unwrap();
    // Multilingual: Spanish answers the welcome and `2` (goodbye).
    let mut agent = json!({"language": "en", "supportedLanguages": ["es"], "defaultTimezone": "UTC",
                           "googleAssistant": {"project": "dtmf-agent"}});
    if let Some(url) = webhook {
        agent["webhook"] = json!({"url": url, "available": true});
    }
    write(d, "agent.json", &agent);
    intent(
        d,
        "Twilio caller",
        Some("6"),
        json!({"webhookUsed": true, "endInteraction": true,
        "responses": [{"parameters": [], "messages": [text(
            "From $session.params.From to $session.params.To on $session.params.CallSid")]}]}),
    );
    intent(
        d,
        "Vonage caller",
        Some("7"),
        json!({"webhookUsed": true, "endInteraction": true,
        "responses": [{"parameters": [], "messages": [text(
            "From $session.params.from to $session.params.to on $session.params.uuid")]}]}),
    );
    intent(
        d,
        "Welcome",
        None,
        json!({"events": [{"name": "WELCOME"}],
        "responses": [{"messages": [text("Welcome"), text_in("es", "Bienvenido")], "parameters": []}]}),
    );
    intent(
        d,
        "speak-to-an-agent",
        Some("1"),
        json!({
        "responses": [{"action": "handoff", "parameters": [], "messages": [
            text("Connecting you to an agent"),
            {"type": 4, "lang": "en", "payload": {"live_agent_handoff": true, "queue": "billing"}}]}]}),
    );
    intent(
        d,
        "Goodbye",
        Some("2"),
        json!({"endInteraction": true,
        "responses": [{"messages": [text("Goodbye"), text_in("es", "Adiós")], "parameters": []}]}),
    );
    write(
        &d.join("intents"),
        "Goodbye_usersays_es.json",
        &json!([{"data": [{"text": "2"}], "isTemplate": false, "count": 0}]),
    );
    intent(
        d,
        "Pay",
        Some("3"),
        json!({
        "responses": [{"action": "pay", "parameters": [], "messages": [
            text("Taking you to payment"),
            {"type": 4, "lang": "en", "payload": {"TWILIO_ACTION": "PAUSE",
              "memberId": "$session.params.member_id", "paymentAmount": "$122.34"}}]}]}),
    );
    // A booking that pauses for payment once it has the party size; the resume event `PAID`
    // confirms it from the booking context, so the earlier parameters must have survived.
    intent(
        d,
        "Book",
        Some("4"),
        json!({
        "responses": [{"action": "book", "resetContexts": false,
            "affectedContexts": [{"name": "booking", "lifespan": 5, "parameters": {}}],
            "parameters": [{"id": "p-guests", "name": "guests", "required": true,
                "dataType": "@sys.number", "value": "$guests", "isList": false,
                "prompts": [{"lang": "en", "value": "For how many guests?"}]}],
            "messages": [text("A table for $guests. Taking you to payment"),
                {"type": 4, "lang": "en", "payload": {"TWILIO_ACTION": "PAUSE", "step": "payment"}}]}]}),
    );
    intent(
        d,
        "Booking paid",
        None,
        json!({"contexts": ["booking"], "events": [{"name": "PAID"}],
        "endInteraction": true,
        "responses": [{"parameters": [], "messages": [text("Your table for #booking.guests is confirmed")]}]}),
    );
    intent(
        d,
        "Transfer",
        Some("5"),
        json!({
        "responses": [{"parameters": [], "messages": [
            text("Transferring"),
            {"type": 15, "platform": "telephony", "lang": "en", "phoneNumber": "+15550199"}]}]}),
    );
    dir
}
