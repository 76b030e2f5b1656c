//! The turn itself: decide the intent (event, slot filling, NLU, fallback), fill parameters,
//! update contexts, render, and hand over to the webhook when the intent uses it.

use super::confirm::{self, Carry};
use super::decide::{self, Decision};
use super::types::*;
use super::{contexts, render, slots};
use crate::agent::{Intent, WebhookConfig};
use crate::engine::{Engine, Extracted};
use crate::template::TemplateEnv;
use crate::webhook::{WebhookOutcome, WebhookRequest};
use serde_json::{json, Map, Value};

/// Follow-up events a webhook may chain in one request.
const MAX_EVENT_HOPS: u8 = 3;

/// The outcome of starting or resuming a turn. `Done` is the common case and is moved out at
/// once, so it stays unboxed (`Webhook` is the one boxed).
#[allow(clippy::large_enum_variant)]
pub enum TurnStep {
    Done(TurnResult),
    Webhook(Box<PendingTurn>),
}

/// A turn waiting for its webhook call.
pub struct PendingTurn {
    pub request: WebhookRequest,
    pub webhook: WebhookConfig,
    draft: Draft,
    req: TurnRequest,
    hops: u8,
}

struct Draft {
    response_id: String,
    query_text: String,
    language: String,
    intent: Option<usize>,
    confidence: f32,
    parameters: Map<String, Value>,
    all_present: bool,
    text: String,
    messages: Vec<Value>,
    webhook_source: Option<String>,
    webhook_payload: Option<Map<String, Value>>,
    /// A text query that matched no intent (and the agent has no fallback for it).
    unknown: bool,
}

impl Engine {
    /// Runs one turn. See the module docs of [`crate::dialog`].
    pub fn begin(&self, state: &mut SessionState, req: TurnRequest) -> TurnStep {
        self.run(state, req, 0)
    }

    /// Finishes a turn with the outcome of its webhook call.
    pub fn resume(
        &self,
        state: &mut SessionState,
        pending: PendingTurn,
        outcome: WebhookOutcome,
    ) -> TurnStep {
        let PendingTurn {
            mut draft,
            req,
            hops,
            ..
        } = pending;
        let status = match outcome {
            WebhookOutcome::Ok(resp) => {
                if let Some(ctxs) = &resp.output_contexts {
                    contexts::apply_wire(state, ctxs);
                }
                if let Some(ev) = resp.followup_event_input.filter(|e| !e.name.is_empty()) {
                    if hops < MAX_EVENT_HOPS {
                        // DF ignores the event's languageCode here: the request's language stays.
                        let next = TurnRequest {
                            input: QueryInput::Event {
                                name: ev.name,
                                parameters: ev.parameters.unwrap_or_default(),
                                language_code: draft.language.clone(),
                            },
                            params: QueryParams {
                                time_zone: req.params.time_zone.clone(),
                                ..Default::default()
                            },
                            ..req
                        };
                        return self.run(state, next, hops + 1);
                    }
                }
                match (
                    resp.fulfillment_messages.filter(|m| !m.is_empty()),
                    resp.fulfillment_text,
                ) {
                    (Some(msgs), text) => {
                        draft.text = text.unwrap_or_else(|| render::text_of_messages(&msgs));
                        draft.messages = msgs;
                    }
                    (None, Some(text)) => {
                        draft.messages = vec![json!({"text": {"text": [text]}})];
                        draft.text = text;
                    }
                    (None, None) => {}
                }
                draft.webhook_source = resp.source;
                draft.webhook_payload = resp.payload;
                json!({"message": "Webhook execution successful"})
            }
            WebhookOutcome::Failed { code, message } => json!({"code": code, "message": message}),
        };
        TurnStep::Done(self.finish(state, draft, &req, Some(status)))
    }

    fn run(&self, state: &mut SessionState, req: TurnRequest, hops: u8) -> TurnStep {
        state.turns = state.turns.saturating_add(1);
        let ctx = self.sys_context(&req);
        decide::apply_query_params(state, &req.params);
        let (query_text, language, event) = match &req.input {
            QueryInput::Text {
                text,
                language_code,
            } => (text.trim().to_string(), language_code.clone(), None),
            QueryInput::Event {
                name,
                parameters,
                language_code,
            } => (
                name.clone(),
                language_code.clone(),
                Some((name.as_str(), parameters)),
            ),
        };
        let (decision, exit) = self.decide(state, event, &query_text, &ctx);
        decide::apply_exit(self, state, exit);
        let mut draft = Draft {
            response_id: uuid::Uuid::new_v4().to_string(),
            query_text,
            language,
            intent: None,
            confidence: 0.0,
            parameters: Map::new(),
            all_present: true,
            text: String::new(),
            messages: Vec::new(),
            webhook_source: None,
            webhook_payload: None,
            unknown: false,
        };
        if let Decision::Repeat = decision {
            return TurnStep::Done(self.repeat_confirmation(state, draft, &req));
        }
        let Decision::Intent {
            idx,
            confidence,
            ex,
            continuing,
            carry,
        } = decision
        else {
            draft.unknown = event.is_none();
            if hops == 0 {
                contexts::age(state);
            }
            return TurnStep::Done(self.finish(state, draft, &req, None));
        };
        let intent = self.intent(idx);
        draft.intent = Some(idx);
        draft.confidence = confidence;
        let Extracted {
            mut values,
            originals,
        } = ex;
        let fresh = fresh_keys(state, intent, &values, continuing, carry);
        let unsure = self.unsure_after(intent, state, &fresh, &req);
        slots::apply_defaults(intent, state, event, &mut values);
        let call_webhook;
        if let Some(p) = slots::first_missing(intent, &values).filter(|_| !intent.is_fallback) {
            let attempts = match &state.slot_filling {
                Some(sf) if continuing && sf.asking == p.name => sf.attempts + 1,
                _ => 1,
            };
            let prompt = if p.prompts.is_empty() {
                format!("What is the {}?", p.name.replace(['-', '_'], " "))
            } else {
                p.prompts[(attempts as usize - 1) % p.prompts.len()].clone()
            };
            ask(
                &mut draft, intent, state, event, &values, &originals, &prompt,
            );
            call_webhook = intent.webhook_for_slot_filling;
            state.slot_filling = Some(SlotFilling {
                intent_id: intent.id.clone(),
                parameters: values,
                originals,
                asking: p.name.clone(),
                attempts,
                unsure,
            });
        } else if confirm::should_ask(&unsure, carry, event.is_some()) {
            // Every required value is there, but some were heard with low confidence: ask.
            state.slot_filling = None;
            let question = confirm::question(intent, &unsure);
            ask(
                &mut draft, intent, state, event, &values, &originals, &question,
            );
            call_webhook = false;
            state.confirming = Some(confirm::pending(
                intent,
                values,
                originals,
                unsure,
                carry.attempts + 1,
            ));
        } else {
            state.slot_filling = None;
            // A webhook's follow-up event belongs to the same query: contexts age once per query.
            if hops == 0 {
                contexts::age(state);
            }
            if intent.reset_contexts {
                state.contexts.clear();
            }
            set_output_contexts(intent, state, &values, &originals);
            let ctx_view = template_view(state, event);
            let env = TemplateEnv {
                params: &values,
                originals: &originals,
                contexts: &ctx_view,
                session_params: &state.session_params,
            };
            let r = render::render_messages(
                &intent.messages,
                &env,
                state.turns,
                render::platform_of(&req.source),
                &intent.default_response_platforms,
            );
            draft.text = r.text;
            draft.messages = r.messages;
            draft.parameters = slots::report(intent, &values);
            call_webhook = intent.webhook_used;
        }
        match (&self.agent.webhook, call_webhook) {
            (Some(wh), true) => {
                let request = WebhookRequest {
                    response_id: draft.response_id.clone(),
                    session: req.session.clone(),
                    query_result: self.query_result(state, &draft, &req),
                    original_detect_intent_request: json!({
                        "source": req.source,
                        "payload": req.params.payload.clone().unwrap_or_else(|| json!({})),
                    }),
                };
                TurnStep::Webhook(Box::new(PendingTurn {
                    request,
                    webhook: wh.clone(),
                    draft,
                    req,
                    hops,
                }))
            }
            _ => TurnStep::Done(self.finish(state, draft, &req, None)),
        }
    }

    fn query_result(&self, state: &SessionState, d: &Draft, req: &TurnRequest) -> Value {
        let mut q = Map::new();
        q.insert("queryText".into(), json!(d.query_text));
        q.insert("languageCode".into(), json!(d.language));
        if let Some(c) = req.speech_confidence {
            q.insert("speechRecognitionConfidence".into(), json!(c));
        }
        let intent = d.intent.map(|i| self.intent(i));
        if let Some(a) = intent.and_then(|i| i.action.as_ref()) {
            q.insert("action".into(), json!(a));
        } else if d.unknown {
            q.insert("action".into(), json!("input.unknown"));
        }
        q.insert("parameters".into(), Value::Object(d.parameters.clone()));
        q.insert("allRequiredParamsPresent".into(), json!(d.all_present));
        q.insert("fulfillmentText".into(), json!(d.text));
        q.insert(
            "fulfillmentMessages".into(),
            Value::Array(d.messages.clone()),
        );
        if let Some(s) = &d.webhook_source {
            q.insert("webhookSource".into(), json!(s));
        }
        if let Some(p) = &d.webhook_payload {
            q.insert("webhookPayload".into(), Value::Object(p.clone()));
        }
        let ctxs = contexts::to_wire(state, &req.session);
        if !ctxs.is_empty() {
            q.insert("outputContexts".into(), Value::Array(ctxs));
        }
        if let Some(i) = intent {
            let mut o = Map::new();
            o.insert(
                "name".into(),
                json!(format!(
                    "projects/{}/agent/intents/{}",
                    project_of(&req.session),
                    i.id
                )),
            );
            o.insert("displayName".into(), json!(i.name));
            if i.end_interaction {
                o.insert("endInteraction".into(), json!(true));
            }
            if i.is_fallback {
                o.insert("isFallback".into(), json!(true));
            }
            q.insert("intent".into(), Value::Object(o));
            q.insert("intentDetectionConfidence".into(), json!(d.confidence));
            if i.end_interaction && d.all_present {
                q.insert("diagnosticInfo".into(), json!({"end_conversation": true}));
            }
        }
        if let Some((score, magnitude)) = req.sentiment {
            q.insert(
                "sentimentAnalysisResult".into(),
                json!({"queryTextSentiment": {"score": score, "magnitude": magnitude}}),
            );
        }
        Value::Object(q)
    }

    /// The pending confirmation question again (the caller said neither yes nor no).
    fn repeat_confirmation(
        &self,
        state: &mut SessionState,
        mut draft: Draft,
        req: &TurnRequest,
    ) -> TurnResult {
        let Some(pc) = state.confirming.clone() else {
            return self.finish(state, draft, req, None);
        };
        if let Some(idx) = self.agent.intents.iter().position(|i| i.id == pc.intent_id) {
            let intent = self.intent(idx);
            let ctx_view = template_view(state, None);
            let env = TemplateEnv {
                params: &pc.parameters,
                originals: &pc.originals,
                contexts: &ctx_view,
                session_params: &state.session_params,
            };
            draft.intent = Some(idx);
            draft.confidence = 1.0;
            draft.text = crate::template::render(&confirm::question(intent, &pc.unsure), &env);
            draft.messages = vec![json!({"text": {"text": [draft.text]}})];
            draft.all_present = false;
            draft.parameters = slots::report(intent, &pc.parameters);
        }
        self.finish(state, draft, req, None)
    }

    fn finish(
        &self,
        state: &SessionState,
        d: Draft,
        req: &TurnRequest,
        webhook_status: Option<Value>,
    ) -> TurnResult {
        let intent = d.intent.map(|i| self.intent(i));
        let end = intent.is_some_and(|i| i.end_interaction) && d.all_present;
        let control = render::control_of(&d.messages, d.webhook_payload.as_ref(), end);
        TurnResult {
            query_result: self.query_result(state, &d, req),
            response_id: d.response_id,
            webhook_status,
            control,
            reply_text: d.text,
            intent_name: intent.map(|i| i.name.clone()),
            intent_id: intent.map(|i| i.id.clone()),
            confidence: d.confidence,
            parameters: d.parameters,
            all_required_params_present: d.all_present,
        }
    }
}

/// `projects/P/...` → `P` (or `-` when the session isn't a DF path).
fn project_of(session: &str) -> &str {
    let mut it = session.split('/');
    while let Some(s) = it.next() {
        if s == "projects" {
            return it.next().unwrap_or("-");
        }
    }
    "-"
}

/// Activates `intent`'s output contexts carrying its parameter values (and `.original`s), merged
/// into what an already active context of the same name holds.
/// The turn asks the caller something (a parameter's prompt, a confirmation) instead of
/// fulfilling: like Dialogflow, the intent's output contexts are active from its match on, with
/// the values collected so far (an interrupted booking can be picked up from them), and
/// `template` is rendered with those values.
fn ask(
    draft: &mut Draft,
    intent: &Intent,
    state: &mut SessionState,
    event: Option<(&str, &Map<String, Value>)>,
    values: &Map<String, Value>,
    originals: &Map<String, Value>,
    template: &str,
) {
    set_output_contexts(intent, state, values, originals);
    let ctx_view = template_view(state, event);
    let env = TemplateEnv {
        params: values,
        originals,
        contexts: &ctx_view,
        session_params: &state.session_params,
    };
    draft.text = crate::template::render(template, &env);
    draft.messages = vec![json!({"text": {"text": [draft.text]}})];
    draft.all_present = false;
    draft.parameters = slots::report(intent, values);
}

fn set_output_contexts(
    intent: &Intent,
    state: &mut SessionState,
    values: &Map<String, Value>,
    originals: &Map<String, Value>,
) {
    let cparams = slots::context_params(intent, values, originals);
    for oc in &intent.output_contexts {
        let mut p = cparams.clone();
        p.extend(oc.parameters.clone());
        contexts::merge(state, &oc.name, oc.lifespan, p, true);
    }
}

/// The parameters this query filled or changed: against the slot filling in progress when it
/// continues, else everything extracted (a confirmed answer fills nothing new).
fn fresh_keys(
    state: &SessionState,
    intent: &Intent,
    values: &Map<String, Value>,
    continuing: bool,
    carry: Carry,
) -> Vec<String> {
    if carry.confirmed {
        return Vec::new();
    }
    let before = state
        .slot_filling
        .as_ref()
        .filter(|sf| continuing && sf.intent_id == intent.id)
        .map(|sf| &sf.parameters);
    values
        .iter()
        .filter(|(k, v)| !slots::is_empty(Some(v)) && before.and_then(|b| b.get(*k)) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// What `#name.param` can read: the active contexts, then the event being handled (DF lets a
/// response say `#welcome_event.name`).
fn template_view<'a>(
    state: &'a SessionState,
    event: Option<(&'a str, &'a Map<String, Value>)>,
) -> Vec<(&'a str, &'a Map<String, Value>)> {
    let mut v = contexts::view(state);
    v.extend(event);
    v
}
