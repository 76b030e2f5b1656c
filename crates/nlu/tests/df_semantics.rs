//! Dialogflow ES dialog semantics, each on a small export written by the test (or the example
//! restaurant agent): context merges and deletion, follow-ups, fallbacks and priorities, events
//! with parameters, slot filling, and response rendering.

use chrono::{TimeZone, Utc};
use sb_nlu::dialog::*;
use sb_nlu::engine::Engine;
use sb_nlu::webhook::{EventInput, WebhookOutcome, WebhookResponse, WireContext};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

const SESSION: &str = "projects/demo/agent/sessions/s1";

/// A Dialogflow ES export folder built from JSON snippets.
struct Export {
    dir: tempfile::TempDir,
}

impl Export {
    fn new(agent: Value) -> Export {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut a = json!({"language": "en", "defaultTimezone": "UTC", "mlMinConfidence": 0.3});
        merge(&mut a, agent);
        write(&dir.path().join("agent.json"), &a);
        std::fs::create_dir(dir.path().join("intents")).unwrap();
        std::fs::create_dir(dir.path().join("entities")).unwrap();
        Export { dir }
    }

    /// `spec` is the intent JSON plus `"phrases"`: training phrases where `[text](@type:alias)`
    /// marks an annotated part.
    fn intent(self, mut spec: Value) -> Export {
        let phrases = spec
            .as_object_mut()
            .and_then(|o| o.remove("phrases"))
            .unwrap_or(json!([]));
        let name = spec["name"].as_str().expect("intent name").to_string();
        let mut full = json!({
            "id": format!("id-{}", name.replace(' ', "-")),
            "contexts": [],
            "priority": 500000,
            "webhookUsed": false,
            "webhookForSlotFilling": false,
            "fallbackIntent": false,
            "events": [],
            "responses": [{"resetContexts": false, "affectedContexts": [], "parameters": [], "messages": []}]
        });
        merge(&mut full, spec);
        let intents = self.dir.path().join("intents");
        write(&intents.join(format!("{name}.json")), &full);
        let says: Vec<Value> = phrases
            .as_array()
            .unwrap()
            .iter()
            .map(|p| json!({"data": parts(p.as_str().unwrap()), "isTemplate": false, "count": 0}))
            .collect();
        write(
            &intents.join(format!("{name}_usersays_en.json")),
            &Value::Array(says),
        );
        self
    }

    /// A map entity: `entries` are (value, synonyms).
    fn entity(self, name: &str, entries: &[(&str, &[&str])]) -> Export {
        let e = self.dir.path().join("entities");
        write(
            &e.join(format!("{name}.json")),
            &json!({"name": name, "isOverridable": true, "isEnum": false, "isRegexp": false,
                    "automatedExpansion": false, "allowFuzzyExtraction": false}),
        );
        let list: Vec<Value> = entries
            .iter()
            .map(|(v, syn)| json!({"value": v, "synonyms": syn}))
            .collect();
        write(
            &e.join(format!("{name}_entries_en.json")),
            &Value::Array(list),
        );
        self
    }

    fn engine(&self) -> Engine {
        Engine::load(self.dir.path()).expect("test export loads")
    }
}

fn merge(base: &mut Value, over: Value) {
    if let (Value::Object(b), Value::Object(o)) = (base, over) {
        for (k, v) in o {
            b.insert(k, v);
        }
    }
}

fn write(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

/// `"I want a [pie](@item:item)"` → DF `data` parts.
fn parts(phrase: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = phrase;
    while let Some(open) = rest.find('[') {
        if open > 0 {
            out.push(json!({"text": &rest[..open], "userDefined": false}));
        }
        let close = rest[open..].find("](").map(|k| open + k).expect("](");
        let end = rest[close..].find(')').map(|k| close + k).expect(")");
        let (meta, alias) = rest[close + 2..end].split_once(':').expect("@type:alias");
        out.push(json!({"text": &rest[open + 1..close], "meta": meta, "alias": alias, "userDefined": true}));
        rest = &rest[end + 1..];
    }
    if !rest.is_empty() {
        out.push(json!({"text": rest, "userDefined": false}));
    }
    out
}

fn text(s: &str) -> Value {
    json!({"type": 0, "lang": "en", "speech": s})
}

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

struct Chat<'a> {
    engine: &'a Engine,
    state: SessionState,
    source: String,
}

impl<'a> Chat<'a> {
    fn new(engine: &'a Engine) -> Self {
        Chat {
            engine,
            state: SessionState::default(),
            source: "test".into(),
        }
    }
    fn req(&self, input: QueryInput) -> TurnRequest {
        TurnRequest {
            session: SESSION.into(),
            input,
            params: QueryParams::default(),
            now: Utc.with_ymd_and_hms(2022, 1, 5, 15, 0, 0).unwrap(),
            sentiment: None,
            speech_confidence: None,
            source: self.source.clone(),
        }
    }
    fn step(&mut self, input: QueryInput) -> TurnStep {
        let r = self.req(input);
        self.engine.begin(&mut self.state, r)
    }
    fn say_step(&mut self, t: &str) -> TurnStep {
        self.step(QueryInput::Text {
            text: t.into(),
            language_code: "en".into(),
        })
    }
    fn say(&mut self, t: &str) -> TurnResult {
        match self.say_step(t) {
            TurnStep::Done(r) => r,
            TurnStep::Webhook(_) => panic!("{t:?}: no webhook expected"),
        }
    }
    fn event(&mut self, name: &str, params: Value) -> TurnResult {
        let step = self.step(QueryInput::Event {
            name: name.into(),
            parameters: obj(params),
            language_code: "en".into(),
        });
        match step {
            TurnStep::Done(r) => r,
            TurnStep::Webhook(_) => panic!("{name}: no webhook expected"),
        }
    }
    fn resume(&mut self, step: TurnStep, reply: WebhookResponse) -> TurnStep {
        let TurnStep::Webhook(p) = step else {
            panic!("a webhook call was expected")
        };
        self.engine
            .resume(&mut self.state, *p, WebhookOutcome::Ok(reply))
    }
    fn context(&self, name: &str) -> Option<&ActiveContext> {
        self.state.contexts.iter().find(|c| c.name == name)
    }
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn done(step: TurnStep) -> TurnResult {
    match step {
        TurnStep::Done(r) => r,
        TurnStep::Webhook(_) => panic!("the turn should be finished"),
    }
}

fn intent_of(r: &TurnResult) -> &str {
    r.intent_name.as_deref().unwrap_or("<none>")
}

// ---- 1. contexts ---------------------------------------------------------------------------

/// An order whose follow-up refines it; the follow-up's entities and contexts use DF's mixed case.
fn order_export() -> Export {
    Export::new(json!({}))
        .entity("item", &[("pizza", &["pizza", "pie"]), ("burger", &["burger"])])
        .entity("size", &[("large", &["large", "big"]), ("small", &["small"])])
        .intent(json!({
            "name": "Order",
            "phrases": ["I want a [pie](@item:item)", "order a [burger](@item:item)", "I'd like a [pizza](@item:item)"],
            "responses": [{
                "affectedContexts": [{"name": "Order-followup", "lifespan": 2, "parameters": {}}],
                "parameters": [{"name": "item", "dataType": "@item", "value": "$item", "required": false, "isList": false, "prompts": []}],
                "messages": [text("One $item coming.")]
            }]
        }))
        .intent(json!({
            "name": "Order - size",
            "contexts": ["Order-followup"],
            "phrases": ["make it [large](@size:size)", "[small](@size:size) please", "a [big](@size:size) one"],
            "responses": [{
                "affectedContexts": [{"name": "ORDER-followup", "lifespan": 2, "parameters": {}}],
                "parameters": [{"name": "size", "dataType": "@size", "value": "$size", "required": false, "isList": false, "prompts": []}],
                "messages": [text("A $size #Order-Followup.item (#order-followup.item.original), $size.original.")]
            }]
        }))
        .intent(json!({
            "name": "Order - done",
            "contexts": ["order-followup"],
            "phrases": ["that is all", "all done"],
            "responses": [{
                "affectedContexts": [{"name": "order-followup", "lifespan": 0, "parameters": {}}],
                "messages": [text("Enjoy.")]
            }]
        }))
        .intent(json!({"name": "Fallback", "fallbackIntent": true, "responses": [{"action": "input.unknown", "messages": [text("Sorry?")]}]}))
}

#[test]
fn output_context_parameters_merge_into_an_active_context() {
    let e = order_export().engine();
    let mut c = Chat::new(&e);
    let r = c.say("I want a pie");
    assert_eq!(intent_of(&r), "Order");
    let r = c.say("a big one");
    assert_eq!(intent_of(&r), "Order - size");
    assert_eq!(
        r.reply_text, "A large pizza (pie), big.",
        "the follow-up's `size` merges into order-followup, which keeps `item`"
    );
    let ctx = c.context("order-followup").expect("order-followup active");
    assert_eq!(ctx.lifespan, 2, "re-setting a context renews its lifespan");
    assert_eq!(ctx.parameters["item"], "pizza");
    assert_eq!(ctx.parameters["item.original"], "pie");
    assert_eq!(ctx.parameters["size"], "large");
    assert_eq!(ctx.parameters["size.original"], "big");
    let wire = r.query_result["outputContexts"].as_array().unwrap();
    let w = wire
        .iter()
        .find(|w| w["name"] == format!("{SESSION}/contexts/order-followup"))
        .expect("one lower-cased order-followup on the wire");
    assert_eq!(w["parameters"]["item"], "pizza");
    assert_eq!(w["parameters"]["size"], "large");
}

#[test]
fn webhook_output_contexts_merge_and_lifespan_zero_deletes() {
    let mut agent = sb_nlu::import::load(order_export().dir.path()).unwrap();
    agent.webhook = Some(sb_nlu::agent::WebhookConfig {
        url: "http://127.0.0.1:9/hook".into(),
        ..Default::default()
    });
    for i in &mut agent.intents {
        i.webhook_used = i.name == "Order - size";
    }
    let e = Engine::new(agent).unwrap();
    let mut c = Chat::new(&e);
    c.say("I want a pie");
    let step = c.say_step("make it large");
    let TurnStep::Webhook(p) = &step else {
        panic!("webhook expected")
    };
    let names: Vec<&str> = p.request.query_result["outputContexts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [format!("{SESSION}/contexts/order-followup")],
        "the webhook sees lower-cased context names"
    );
    let reply = WebhookResponse {
        fulfillment_text: Some("ok".into()),
        output_contexts: Some(vec![
            WireContext {
                name: format!("{SESSION}/contexts/Order-FollowUp"),
                lifespan_count: Some(4),
                parameters: Some(obj(json!({"paid": true}))),
            },
            WireContext {
                name: format!("{SESSION}/contexts/Scratch"),
                lifespan_count: Some(3),
                parameters: None,
            },
        ]),
        ..Default::default()
    };
    done(c.resume(step, reply));
    let ctx = c.context("order-followup").expect("order-followup");
    assert_eq!(ctx.lifespan, 4);
    assert_eq!(ctx.parameters["paid"], true);
    assert_eq!(
        ctx.parameters["item"], "pizza",
        "webhook parameters merge too"
    );
    assert_eq!(ctx.parameters["size"], "large");
    assert!(c.context("scratch").is_some());

    let step = c.say_step("small please");
    let reply = WebhookResponse {
        output_contexts: Some(vec![WireContext {
            name: format!("{SESSION}/contexts/SCRATCH"),
            lifespan_count: Some(0),
            parameters: None,
        }]),
        ..Default::default()
    };
    done(c.resume(step, reply));
    assert!(
        c.context("scratch").is_none(),
        "lifespanCount 0 deletes the context"
    );
    let r = c.say("all done");
    assert_eq!(intent_of(&r), "Order - done");
    assert!(
        c.context("order-followup").is_none(),
        "an output context with lifespan 0 deletes it: {:?}",
        c.state.contexts
    );
}

// ---- 2. follow-ups -------------------------------------------------------------------------

fn confirm_export() -> Export {
    Export::new(json!({}))
        .intent(json!({
            "name": "Quote",
            "phrases": ["give me a quote", "how much would it cost"],
            "responses": [{"affectedContexts": [{"name": "quote-followup", "lifespan": 2}], "messages": [text("Fifty dollars. Shall I book it?")]}]
        }))
        .intent(json!({
            "name": "Quote - yes",
            "contexts": ["quote-followup"],
            "phrases": ["yes", "yes book it", "go ahead and book", "sure do it"],
            "responses": [{"messages": [text("Booked.")]}]
        }))
        .intent(json!({
            "name": "Agree",
            "phrases": ["yes please", "yes I agree", "sure thing", "absolutely yes", "yes that is right"],
            "responses": [{"messages": [text("Glad you agree.")]}]
        }))
        .intent(json!({
            "name": "Weather",
            "phrases": ["what is the weather", "will it rain today"],
            "responses": [{"messages": [text("Sunny.")]}]
        }))
        .intent(json!({"name": "Fallback", "fallbackIntent": true, "responses": [{"action": "input.unknown", "messages": [text("Sorry?")]}]}))
}

#[test]
fn follow_up_with_active_context_beats_a_similar_context_free_match() {
    let e = confirm_export().engine();
    let active: std::collections::HashSet<String> = ["quote-followup".to_string()].into();
    let ranked = e.rank(
        "yes sure",
        &active,
        &sb_nlu::sysent::SysContext::reference(chrono_tz::UTC),
    );
    let name = |i: usize| e.intent(i).name.clone();
    let scores: Vec<(String, f32)> = ranked
        .iter()
        .map(|s| (name(s.intent), s.confidence))
        .collect();
    let mut c = Chat::new(&e);
    assert_eq!(
        intent_of(&c.say("yes sure")),
        "Agree",
        "no context: {scores:?}"
    );
    c.say("give me a quote");
    let r = c.say("yes sure");
    assert_eq!(intent_of(&r), "Quote - yes", "context boost: {scores:?}");
}

#[test]
fn follow_up_context_lifespan_from_the_export_is_honoured() {
    let e = confirm_export().engine();
    let mut c = Chat::new(&e);
    let r = c.say("give me a quote");
    assert_eq!(
        r.query_result["outputContexts"][0]["lifespanCount"], 2,
        "{}",
        r.query_result
    );
    c.say("what is the weather");
    let r = c.say("yes book it");
    assert_eq!(
        intent_of(&r),
        "Quote - yes",
        "lifespan 2: still active one turn later"
    );
    c.say("give me a quote");
    c.say("what is the weather");
    c.say("will it rain today");
    let r = c.say("yes book it");
    assert_ne!(intent_of(&r), "Quote - yes", "expired after two turns");
}

// ---- 3. fallbacks and priorities -----------------------------------------------------------

#[test]
fn follow_up_fallback_wins_over_the_general_fallback_in_its_context() {
    let e = confirm_export()
        .intent(json!({
            "name": "Quote - fallback",
            "contexts": ["quote-followup"],
            "fallbackIntent": true,
            "responses": [{"action": "Quote.Quote-fallback", "messages": [text("Please say yes or no.")]}]
        }))
        .engine();
    let mut c = Chat::new(&e);
    let r = c.say("purple elephants dance");
    assert_eq!(intent_of(&r), "Fallback");
    c.say("give me a quote");
    let r = c.say("purple elephants dance");
    assert_eq!(intent_of(&r), "Quote - fallback");
    assert_eq!(r.reply_text, "Please say yes or no.");
    assert_eq!(r.query_result["intent"]["isFallback"], true);
}

#[test]
fn ml_min_confidence_from_agent_json_is_the_fallback_threshold() {
    let phrase = "could you tell me the weather forecast";
    let lenient = Export::new(json!({"mlMinConfidence": 0.05}));
    let strict = Export::new(json!({"mlMinConfidence": 0.999}));
    let mut names = Vec::new();
    for ex in [lenient, strict] {
        let e = ex
            .intent(json!({"name": "Weather", "phrases": ["what is the weather", "will it rain today", "weather forecast please"], "responses": [{"messages": [text("Sunny.")]}]}))
            .intent(json!({"name": "Hours", "phrases": ["when are you open", "opening hours"], "responses": [{"messages": [text("9 to 5.")]}]}))
            .intent(json!({"name": "Fallback", "fallbackIntent": true, "responses": [{"action": "input.unknown", "messages": [text("Sorry?")]}]}))
            .engine();
        let r = Chat::new(&e).say(phrase);
        names.push((intent_of(&r).to_string(), r.confidence));
    }
    assert_eq!(names[0].0, "Weather", "{names:?}");
    assert!(names[0].1 < 0.999, "{names:?}");
    assert_eq!(names[1].0, "Fallback", "{names:?}");
}

#[test]
fn unmatched_queries_report_the_input_unknown_action() {
    let e = Export::new(json!({}))
        .intent(json!({"name": "Hours", "phrases": ["when are you open", "opening hours"], "responses": [{"messages": [text("9 to 5.")]}]}))
        .engine();
    let mut c = Chat::new(&e);
    let r = c.say("purple elephants dance");
    assert_eq!(r.intent_name, None, "no fallback intent in this agent");
    assert_eq!(r.query_result["action"], "input.unknown");
    let e = order_export().engine();
    let r = Chat::new(&e).say("purple elephants dance");
    assert_eq!(intent_of(&r), "Fallback");
    assert_eq!(r.query_result["action"], "input.unknown");
}

#[test]
fn intent_priority_breaks_ties_and_minus_one_disables() {
    let e = Export::new(json!({}))
        .intent(json!({"name": "A low", "priority": 250000, "phrases": ["check my order", "order status"], "responses": [{"messages": [text("low")]}]}))
        .intent(json!({"name": "B normal", "phrases": ["check my order", "order status"], "responses": [{"messages": [text("normal")]}]}))
        .intent(json!({"name": "C high", "priority": 750000, "phrases": ["check my order", "order status"], "responses": [{"messages": [text("high")]}]}))
        .intent(json!({"name": "D disabled", "priority": -1, "events": [{"name": "PING"}], "phrases": ["hello there"], "responses": [{"messages": [text("disabled")]}]}))
        .intent(json!({"name": "E highest", "priority": 1000000, "phrases": ["talk to a human"], "responses": [{"messages": [text("human")]}]}))
        .intent(json!({"name": "F normal", "phrases": ["talk to a human"], "responses": [{"messages": [text("other")]}]}))
        .intent(json!({"name": "Fallback", "fallbackIntent": true, "responses": [{"action": "input.unknown", "messages": [text("Sorry?")]}]}))
        .engine();
    let mut c = Chat::new(&e);
    assert_eq!(intent_of(&c.say("check my order")), "C high");
    assert_eq!(intent_of(&c.say("talk to a human")), "E highest");
    assert_eq!(intent_of(&c.say("hello there")), "Fallback");
    // A disabled intent's event matches nothing, so the fallback answers (as for any event no
    // intent takes).
    let r = c.event("PING", json!({}));
    assert_eq!(r.intent_name.as_deref(), Some("Fallback"));
}

// ---- 4. events -----------------------------------------------------------------------------

fn event_export() -> Export {
    Export::new(json!({}))
        .intent(json!({
            "name": "Greet",
            "events": [{"name": "welcome_event"}],
            "responses": [{
                "parameters": [
                    {"name": "who", "dataType": "@sys.any", "value": "#welcome_event.name", "isList": false},
                    {"name": "city", "dataType": "@sys.geo-city", "value": "$city", "isList": false},
                    {"name": "guest", "dataType": "@sys.any", "value": "$name", "isList": false}
                ],
                "messages": [text("Hello $who from $city! Nice to meet you, #welcome_event.name ($guest).")]
            }]
        }))
        .intent(json!({
            "name": "Relay",
            "webhookUsed": true,
            "phrases": ["relay me"],
            "responses": [{"messages": [text("static")]}]
        }))
}

#[test]
fn event_parameters_fill_params_and_hash_event_references() {
    let e = event_export().engine();
    let mut c = Chat::new(&e);
    let r = c.event("WELCOME_EVENT", json!({"name": "Sam", "city": "Paris"}));
    assert_eq!(intent_of(&r), "Greet");
    assert_eq!(r.parameters["who"], "Sam");
    assert_eq!(r.parameters["city"], "Paris");
    assert_eq!(
        r.parameters["guest"], "Sam",
        "value `$name` reads the event's `name`"
    );
    assert_eq!(
        r.reply_text,
        "Hello Sam from Paris! Nice to meet you, Sam (Sam)."
    );
}

#[test]
fn followup_event_input_from_a_webhook_carries_its_parameters() {
    let mut agent = sb_nlu::import::load(event_export().dir.path()).unwrap();
    agent.webhook = Some(sb_nlu::agent::WebhookConfig {
        url: "http://127.0.0.1:9/hook".into(),
        ..Default::default()
    });
    let e = Engine::new(agent).unwrap();
    let mut c = Chat::new(&e);
    let step = c.say_step("relay me");
    let reply = WebhookResponse {
        followup_event_input: Some(EventInput {
            name: "welcome_event".into(),
            language_code: Some("fr".into()),
            parameters: Some(obj(json!({"name": "Ana", "city": "Lima"}))),
        }),
        ..Default::default()
    };
    let r = done(c.resume(step, reply));
    assert_eq!(intent_of(&r), "Greet");
    assert_eq!(
        r.reply_text,
        "Hello Ana from Lima! Nice to meet you, Ana (Ana)."
    );
    assert_eq!(
        r.query_result["languageCode"], "en",
        "DF ignores followupEventInput.languageCode: the request's language stays"
    );
}

#[test]
fn followup_event_from_a_webhook_ages_contexts_once_per_query() {
    let mut agent = sb_nlu::import::load(event_export().dir.path()).unwrap();
    agent.webhook = Some(sb_nlu::agent::WebhookConfig {
        url: "http://127.0.0.1:9/hook".into(),
        ..Default::default()
    });
    let e = Engine::new(agent).unwrap();
    let mut c = Chat::new(&e);
    let mut req = c.req(QueryInput::Text {
        text: "relay me".into(),
        language_code: "en".into(),
    });
    req.params.contexts = vec![ActiveContext {
        name: "basket".into(),
        lifespan: 2,
        parameters: obj(json!({"n": 1})),
    }];
    let step = e.begin(&mut c.state, req);
    let reply = WebhookResponse {
        followup_event_input: Some(EventInput {
            name: "welcome_event".into(),
            language_code: None,
            parameters: Some(obj(json!({"name": "Ana"}))),
        }),
        ..Default::default()
    };
    assert_eq!(intent_of(&done(c.resume(step, reply))), "Greet");
    assert_eq!(
        c.context("basket").map(|b| b.lifespan),
        Some(1),
        "one query, one unit of lifespan: {:?}",
        c.state.contexts
    );
}

// ---- 5. slot filling -----------------------------------------------------------------------

fn pizza_export(webhook_for_slot_filling: bool) -> Engine {
    let ex = Export::new(json!({}))
        .entity("topping", &[("ham", &["ham"]), ("olives", &["olives", "olive"]), ("mushroom", &["mushroom", "mushrooms"])])
        .entity("crust", &[("thin", &["thin"]), ("thick", &["thick", "deep pan"])])
        .intent(json!({
            "name": "Pizza",
            "webhookUsed": true,
            "webhookForSlotFilling": webhook_for_slot_filling,
            "phrases": ["I want a pizza", "a pizza with [ham](@topping:toppings)", "a [thin](@crust:crust) pizza"],
            "responses": [{
                "affectedContexts": [{"name": "pizza", "lifespan": 5}],
                "parameters": [
                    {"name": "toppings", "dataType": "@topping", "value": "$toppings", "required": true, "isList": true,
                     "prompts": [{"lang": "en", "value": "Which toppings?"}, {"lang": "en", "value": "Ham, olives or mushrooms?"}, {"lang": "en", "value": "Pick a topping."}]},
                    {"name": "crust", "dataType": "@crust", "value": "$crust", "required": true, "isList": false,
                     "prompts": [{"lang": "en", "value": "Thin or thick crust?"}]}
                ],
                "messages": [text("A $crust pizza with $toppings.")]
            }]
        }))
        .intent(json!({"name": "Fallback", "fallbackIntent": true, "responses": [{"action": "input.unknown", "messages": [text("Sorry?")]}]}));
    let mut agent = sb_nlu::import::load(ex.dir.path()).unwrap();
    agent.webhook = Some(sb_nlu::agent::WebhookConfig {
        url: "http://127.0.0.1:9/hook".into(),
        ..Default::default()
    });
    Engine::new(agent).unwrap()
}

/// A webhook that answers nothing: the static response stays.
fn empty_reply() -> WebhookResponse {
    WebhookResponse::default()
}

#[test]
fn slot_filling_reprompts_cycle_through_the_prompt_variants() {
    let e = pizza_export(false);
    let mut c = Chat::new(&e);
    let replies: Vec<String> = ["I want a pizza", "hmm", "er", "well"]
        .iter()
        .map(|t| c.say(t).reply_text)
        .collect();
    assert_eq!(
        replies,
        [
            "Which toppings?",
            "Ham, olives or mushrooms?",
            "Pick a topping.",
            "Which toppings?"
        ]
    );
}

#[test]
fn required_list_parameter_collects_every_value_said() {
    let e = pizza_export(false);
    let mut c = Chat::new(&e);
    assert_eq!(c.say("I want a pizza").reply_text, "Which toppings?");
    let r = c.say("ham and olives and mushrooms");
    assert_eq!(
        r.parameters["toppings"],
        json!(["ham", "olives", "mushroom"]),
        "{:?}",
        r.parameters
    );
    assert_eq!(r.reply_text, "Thin or thick crust?");
    let step = c.say_step("thin");
    let r = done(c.resume(step, empty_reply()));
    assert_eq!(r.reply_text, "A thin pizza with ham, olives, mushroom.");
}

#[test]
fn webhook_for_slot_filling_is_called_on_every_slot_filling_turn() {
    let e = pizza_export(true);
    let mut c = Chat::new(&e);
    let step = c.say_step("I want a pizza");
    let TurnStep::Webhook(p) = &step else {
        panic!("slot filling turn 1 calls the webhook")
    };
    let q = &p.request.query_result;
    assert_eq!(q["allRequiredParamsPresent"], false);
    assert_eq!(q["parameters"], json!({"toppings": [], "crust": ""}));
    assert_eq!(q["fulfillmentText"], "Which toppings?");
    let r = done(c.resume(
        step,
        WebhookResponse {
            fulfillment_text: Some("Today we have ham and olives. Which would you like?".into()),
            ..Default::default()
        },
    ));
    assert_eq!(
        r.reply_text,
        "Today we have ham and olives. Which would you like?"
    );
    assert!(!r.all_required_params_present);
    let step = c.say_step("ham");
    let TurnStep::Webhook(p) = &step else {
        panic!("slot filling turn 2 calls the webhook")
    };
    assert_eq!(
        p.request.query_result["parameters"],
        json!({"toppings": ["ham"], "crust": ""})
    );
    let r = done(c.resume(step, empty_reply()));
    assert_eq!(r.reply_text, "Thin or thick crust?");
    let step = c.say_step("thick");
    let TurnStep::Webhook(p) = &step else {
        panic!("the completed intent calls the webhook (webhookUsed)")
    };
    assert_eq!(p.request.query_result["allRequiredParamsPresent"], true);
    let r = done(c.resume(step, empty_reply()));
    assert_eq!(r.reply_text, "A thick pizza with ham.");

    // Without webhookForSlotFilling only the completed intent calls it.
    let e = pizza_export(false);
    let mut c = Chat::new(&e);
    assert!(matches!(c.say_step("I want a pizza"), TurnStep::Done(_)));
    assert!(matches!(c.say_step("ham"), TurnStep::Done(_)));
    assert!(matches!(c.say_step("thick"), TurnStep::Webhook(_)));
}

#[test]
fn cancelling_slot_filling_ends_it_and_resets_its_values() {
    let e = Engine::load(&repo("examples/restaurant")).expect("restaurant agent");
    for phrase in [
        "cancel",
        "cancel that",
        "never mind",
        "forget about it",
        "Stop it!",
    ] {
        let mut c = Chat::new(&e);
        let r = c.say("I'd like to book a table for Tanya");
        assert_eq!(r.reply_text, "On which date would you like the table?");
        assert!(c.context("booking").is_some());
        let r = c.say(phrase);
        assert_ne!(intent_of(&r), "Table Booker", "{phrase}");
        assert!(
            c.state.slot_filling.is_none(),
            "{phrase}: slot filling ended"
        );
        assert!(
            c.context("booking").is_none(),
            "{phrase}: the values collected for the cancelled booking are dropped: {:?}",
            c.state.contexts
        );
    }
}

// ---- 6. responses --------------------------------------------------------------------------

#[test]
fn response_variants_vary_from_turn_to_turn() {
    let e = Export::new(json!({}))
        .intent(
            json!({"name": "Hi", "phrases": ["hi", "hello"], "responses": [{"messages": [
                {"type": 0, "lang": "en", "speech": ["Hi!", "Hello!", "Hey!"]}
            ]}]}),
        )
        .engine();
    let mut c = Chat::new(&e);
    let mut seen: Vec<String> = (0..6).map(|_| c.say("hi").reply_text).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen, ["Hello!", "Hey!", "Hi!"]);
}

#[test]
fn default_response_platforms_decide_what_each_platform_hears() {
    let e = Export::new(json!({}))
        .intent(json!({"name": "Both", "phrases": ["both please"], "responses": [{
            "messages": [text("Hello there."), {"type": 0, "lang": "en", "platform": "telephony", "speech": "Thanks for calling."}],
            "defaultResponsePlatforms": {"telephony": true}
        }]}))
        .intent(json!({"name": "Own", "phrases": ["own please"], "responses": [{
            "messages": [text("Hello there."), {"type": 0, "lang": "en", "platform": "telephony", "speech": "Thanks for calling."}],
            "defaultResponsePlatforms": {"google": true}
        }]}))
        .intent(json!({"name": "Plain", "phrases": ["plain please"], "responses": [{
            "messages": [text("Hello there."), {"type": 0, "lang": "en", "platform": "google", "speech": "Hi Assistant."}],
            "defaultResponsePlatforms": {}
        }]}))
        .engine();
    let mut web = Chat::new(&e);
    let mut phone = Chat::new(&e);
    phone.source = "twilio".into();
    let heard = |c: &mut Chat, t: &str| {
        let r = c.say(t);
        assert_eq!(r.query_result["fulfillmentText"], r.reply_text.as_str());
        r.reply_text
    };
    assert_eq!(heard(&mut web, "both please"), "Hello there.");
    assert_eq!(
        heard(&mut phone, "both please"),
        "Hello there. Thanks for calling.",
        "telephony listed: the default messages first, then its own"
    );
    assert_eq!(heard(&mut web, "own please"), "Hello there.");
    assert_eq!(
        heard(&mut phone, "own please"),
        "Thanks for calling.",
        "telephony not listed: only its own messages"
    );
    assert_eq!(
        heard(&mut phone, "plain please"),
        "Hello there.",
        "no telephony messages: the default ones"
    );
    let r = web.say("plain please");
    let platforms: Vec<&str> = r.query_result["fulfillmentMessages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(platforms, ["-", "ACTIONS_ON_GOOGLE"]);
}

#[test]
fn end_interaction_ends_the_conversation_in_the_turn_control() {
    let e = Export::new(json!({}))
        .intent(json!({"name": "Bye", "endInteraction": true, "phrases": ["goodbye", "bye"], "responses": [{"messages": [text("Bye!")]}]}))
        .intent(json!({"name": "Hi", "phrases": ["hi", "hello"], "responses": [{"messages": [text("Hi!")]}]}))
        .engine();
    let mut c = Chat::new(&e);
    let r = c.say("hello");
    assert!(!r.control.end_interaction);
    let r = c.say("goodbye");
    assert!(r.control.end_interaction);
    assert_eq!(r.query_result["intent"]["endInteraction"], true);
    assert_eq!(r.query_result["diagnosticInfo"]["end_conversation"], true);
}

#[test]
fn custom_payloads_substitute_parameter_and_context_references() {
    let e = order_export()
        .intent(json!({"name": "Receipt", "contexts": ["order-followup"], "phrases": ["send me the receipt"], "responses": [{
            "parameters": [{"name": "item", "dataType": "@item", "value": "#order-followup.item", "isList": false}],
            "messages": [{"type": 4, "lang": "en", "payload": {
                "card": {"title": "Your $item", "note": "asked as #order-followup.item.original", "count": 2},
                "to": "$session.params.caller",
                "lines": ["$item", "for $session.params.caller"],
                "flag": true
            }}]
        }]}))
        .engine();
    let mut c = Chat::new(&e);
    let mut req = c.req(QueryInput::Text {
        text: "I want a pie".into(),
        language_code: "en".into(),
    });
    req.params
        .session_params
        .insert("caller".into(), json!("+15550001111"));
    done(e.begin(&mut c.state, req));
    let r = c.say("send me the receipt");
    assert_eq!(intent_of(&r), "Receipt");
    assert_eq!(
        r.query_result["fulfillmentMessages"][0]["payload"],
        json!({
            "card": {"title": "Your pizza", "note": "asked as pie", "count": 2},
            "to": "+15550001111",
            "lines": ["pizza", "for +15550001111"],
            "flag": true
        })
    );
}
