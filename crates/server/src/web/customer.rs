//! The customer side of the web chat: `/chat`, `/widget.js` and `/chat/api/*`.
//!
//! A chat is a live conversation whose id and key the server issues on `start`; the widget keeps
//! both in `localStorage` so a reload resumes it. Text turns go through the same engine and
//! session store as `detectIntent` (session `projects/P/agent/sessions/web-ID`). While a person
//! has taken the chat over the bot stays silent; their messages arrive over `events` (SSE).

use super::model::{Channel, Entry, Nlu, Sentiment, Status, Who};
use super::{err, rich, sse, Web};
use crate::api::error::ApiError;
use crate::state::AppState;
use crate::turn::{detect_intent, TurnInput};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sb_nlu::dialog::{QueryInput, QueryParams, TurnResult};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Longest chat message from a customer or an agent (characters).
pub const MAX_CHAT_CHARS: usize = crate::config::MAX_QUERY_CHARS;
const CHAT_HTML: &str = include_str!("assets/chat.html");
const WIDGET_JS: &str = include_str!("assets/widget.js");

pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        CHAT_HTML,
    )
        .into_response()
}

pub async fn widget() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        WIDGET_JS,
    )
        .into_response()
}

/// CORS for the widget embedded on other sites: no cookies are involved, the chat key is the
/// credential, so any origin may call the chat API.
pub async fn cors(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    res
}

pub async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

#[derive(Debug, Default, Deserialize)]
pub struct StartBody {
    #[serde(default)]
    agent: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ChatRef {
    id: String,
    key: String,
}

#[derive(Debug, Deserialize)]
pub struct SayBody {
    id: String,
    key: String,
    text: String,
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t)
        .map_err(|e| ApiError::invalid(format!("Invalid request body: {}", e.body_text())))
}

/// The live chat `id` if `key` is its key. Closed or unknown chats are `410 Gone` (the widget then
/// starts a new one).
fn chat(web: &Web, id: &str, key: &str) -> Result<Arc<super::hub::Live>, ApiError> {
    let gone = || {
        err(
            StatusCode::GONE,
            "NOT_FOUND",
            "This chat has ended; start a new one.",
        )
    };
    if id.len() > 64 || key.len() > 128 {
        return Err(gone());
    }
    let live = web.hub.get(id).ok_or_else(gone)?;
    if !live.key_matches(key) {
        return Err(gone());
    }
    Ok(live)
}

/// Trims a chat message and checks its length; control characters become spaces.
pub fn clean_text(text: &str, max: usize) -> Result<String, ApiError> {
    let t: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if t.is_empty() {
        return Err(ApiError::invalid("The message is empty."));
    }
    let n = t.chars().count();
    if n > max {
        return Err(ApiError::invalid(format!(
            "The message exceeds the maximum length of {max} characters (got {n})."
        )));
    }
    Ok(t)
}

fn project(app: &AppState) -> String {
    app.engine
        .agent
        .project
        .clone()
        .unwrap_or_else(|| "switchboard".into())
}

pub async fn start(
    State(app): State<Arc<AppState>>,
    b: Result<Json<StartBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let project = project(&app);
    if let Some(a) = b.agent.as_deref().filter(|a| !a.is_empty()) {
        if a != project {
            return Err(ApiError::not_found(format!(
                "Unknown agent '{}'.",
                a.chars().take(64).collect::<String>()
            )));
        }
    }
    let _permit = app
        .inflight
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::exhausted("Too many requests in flight; retry later."))?;
    let id = format!("c{}", &super::auth::random_token()[..20]);
    let key = super::auth::random_token();
    let session = format!("projects/{project}/agent/sessions/web-{id}");
    let live = app
        .web
        .hub
        .open(id.clone(), Channel::Chat, session, Some(&key), None)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let welcome = QueryInput::Event {
        name: "WELCOME".into(),
        parameters: Map::new(),
        language_code: app.engine.agent.language.clone(),
    };
    let (entries, status) = bot_turn(&app, &live, None, welcome).await?;
    Ok(Json(
        json!({"id": id, "key": key, "entries": entries, "status": status}),
    ))
}

pub async fn history(
    State(app): State<Arc<AppState>>,
    b: Result<Json<ChatRef>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let live = chat(&app.web, &b.id, &b.key)?;
    let c = live.snapshot().await;
    let entries: Vec<&Entry> = c.entries.iter().filter(|e| e.who != Who::Note).collect();
    Ok(Json(
        json!({"entries": entries, "status": c.meta.status.name()}),
    ))
}

pub async fn say(
    State(app): State<Arc<AppState>>,
    b: Result<Json<SayBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let live = chat(&app.web, &b.id, &b.key)?;
    let text = clean_text(&b.text, MAX_CHAT_CHARS)?;
    let _permit = app
        .inflight
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::exhausted("Too many requests in flight; retry later."))?;
    let hub = &app.web.hub;
    let (seq, human) = hub
        .change(&live, |t| {
            let seq = t.add(Who::Customer, None, text.clone(), Vec::new(), None);
            (seq, matches!(t.conv.meta.status, Status::Agent { .. }))
        })
        .await
        .map_err(internal)?;
    let Some(seq) = seq else {
        return Err(ApiError::exhausted(
            "This chat is too long; start a new one.",
        ));
    };
    if human {
        return Ok(Json(json!({"entries": [], "status": "agent"})));
    }
    let input = QueryInput::Text {
        text,
        language_code: app.engine.agent.language.clone(),
    };
    let (entries, status) = bot_turn(&app, &live, Some(seq), input).await?;
    Ok(Json(json!({"entries": entries, "status": status})))
}

/// The widget's "talk to a person" button.
pub async fn person(
    State(app): State<Arc<AppState>>,
    b: Result<Json<ChatRef>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let live = chat(&app.web, &b.id, &b.key)?;
    let entries = app
        .web
        .hub
        .change(&live, |t| {
            let from = t.conv.entries.len();
            if matches!(t.conv.meta.status, Status::Bot) {
                let now = t.now;
                t.set_status(Status::Queued {
                    since: now,
                    reason: "customer asked for a person".into(),
                });
                t.add(Who::System, None, WAITING.into(), Vec::new(), None);
            }
            t.conv.entries[from..].to_vec()
        })
        .await
        .map_err(internal)?;
    Ok(Json(json!({"entries": entries, "status": "queued"})))
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    id: String,
    key: String,
}

/// Agent messages and status changes for the widget (SSE; `resync` when it fell behind).
pub async fn events(
    State(app): State<Arc<AppState>>,
    q: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::invalid(e.body_text()))?;
    let live = chat(&app.web, &q.id, &q.key)?;
    Ok(sse::stream(live.subscribe(), app.web.closing(), None, None).into_response())
}

const WAITING: &str = "You're in the queue for a person; they will see this whole chat. \
You can keep chatting with the assistant meanwhile.";

fn internal(e: super::hub::HubError) -> ApiError {
    tracing::error!(error = %e, "chat: conversation update failed");
    ApiError::unavailable("The chat is unavailable; retry later.")
}

/// What the bot understood of a turn, for the console.
pub fn nlu_of(r: &TurnResult) -> Nlu {
    let sentiment = r
        .query_result
        .pointer("/sentimentAnalysisResult/queryTextSentiment")
        .and_then(|s| {
            Some(Sentiment {
                score: s.get("score")?.as_f64()? as f32,
                magnitude: s.get("magnitude").and_then(Value::as_f64).unwrap_or(0.0) as f32,
            })
        });
    Nlu {
        intent: r.intent_name.clone(),
        confidence: r.confidence,
        parameters: r.parameters.clone(),
        sentiment,
    }
}

/// The reason and phone number of a handoff, from its payload or the turn's parameters.
pub fn handoff_of(r: &TurnResult) -> Option<(String, Option<String>)> {
    let h = r.control.live_agent_handoff.as_ref()?;
    let s = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(200).collect::<String>())
    };
    let reason = s(h.get("reason"))
        .or_else(|| r.intent_name.clone())
        .unwrap_or_else(|| "live agent handoff".into());
    let phone = s(h.get("phoneNumber"))
        .or_else(|| s(h.get("phone")))
        .or_else(|| {
            ["phone-number", "phone_number", "phone"]
                .iter()
                .find_map(|k| s(r.parameters.get(*k)))
        });
    Some((reason, phone))
}

/// Runs one engine turn for the chat and records it; returns the new entries and the status.
async fn bot_turn(
    app: &Arc<AppState>,
    live: &Arc<super::hub::Live>,
    seq: Option<u32>,
    input: QueryInput,
) -> Result<(Vec<Entry>, &'static str), ApiError> {
    let out = detect_intent(
        app,
        TurnInput {
            session: live.session.clone(),
            input,
            params: QueryParams::default(),
            analyze_sentiment: true,
            source: "switchboard-web".into(),
        },
    )
    .await?;
    let r = out.result;
    let nlu = nlu_of(&r);
    let messages = r
        .query_result
        .get("fulfillmentMessages")
        .and_then(Value::as_array)
        .map(|m| rich::from_fulfillment(m))
        .unwrap_or_default();
    let handoff = handoff_of(&r);
    let reply = r.reply_text.clone();
    app.web
        .hub
        .change(live, move |t| {
            let from = t.conv.entries.len();
            if let Some(s) = seq {
                t.annotate(s, nlu);
            }
            // A person took over while the engine ran: the bot stays silent.
            if matches!(t.conv.meta.status, Status::Agent { .. }) {
                return (Vec::new(), "agent");
            }
            if !reply.is_empty() || !messages.is_empty() {
                t.add(Who::Bot, None, reply, messages, None);
            }
            if let Some((reason, phone)) = handoff {
                if phone.is_some() {
                    t.conv.meta.phone = phone;
                }
                match &t.conv.meta.status {
                    Status::Queued { since, .. } => {
                        let since = *since;
                        t.set_status(Status::Queued { since, reason });
                    }
                    _ => {
                        let now = t.now;
                        t.set_status(Status::Queued { since: now, reason });
                        t.add(Who::System, None, WAITING.into(), Vec::new(), None);
                    }
                }
            }
            (t.conv.entries[from..].to_vec(), t.conv.meta.status.name())
        })
        .await
        .map_err(internal)
}
