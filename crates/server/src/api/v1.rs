//! The legacy V1 (api.ai) query endpoint, `POST /v1/query`, for clients of agents still on the V1
//! API. The body is translated into a V2 detectIntent body (one validation path), the turn runs as
//! any other, and the answer is V1's: `result`, and `status` — 206 `partial_content` with the
//! webhook's error when the fulfillment call failed.

use super::error::ApiError;
use crate::state::AppState;
use crate::turn::detect_intent;
use chrono::SecondsFormat;
use sb_nlu::webhook::v1;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryBody {
    /// One query, or (as V1 allowed) alternatives of which the first is used.
    #[serde(default)]
    query: Option<Value>,
    #[serde(default)]
    event: Option<EventBody>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    contexts: Option<Vec<ContextBody>>,
    #[serde(default)]
    reset_contexts: Option<bool>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    original_request: Option<OriginalRequest>,
}

#[derive(Debug, Default, Deserialize)]
struct EventBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    data: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize)]
struct ContextBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    lifespan: Option<i64>,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize)]
struct OriginalRequest {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    data: Option<Map<String, Value>>,
}

/// A V1 answer: HTTP status and body.
pub struct V1Reply {
    pub http: u16,
    pub body: Value,
}

pub async fn query(app: &AppState, bytes: &[u8]) -> V1Reply {
    match run(app, bytes).await {
        Ok(body) => V1Reply { http: 200, body },
        Err(e) => V1Reply {
            http: e.http.as_u16(),
            body: error_body(app, &e),
        },
    }
}

async fn run(app: &AppState, bytes: &[u8]) -> Result<Value, ApiError> {
    let body: QueryBody = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(format!("Invalid JSON payload received. {e}")))?;
    let session_id = body
        .session_id
        .clone()
        .ok_or_else(|| ApiError::invalid("Field 'sessionId' is required."))?;
    super::detect::check_segment("session", &session_id, crate::config::MAX_SESSION_ID_CHARS)?;
    let project = app.engine.agent.project.as_deref().unwrap_or("default");
    let session = format!("projects/{project}/agent/sessions/{session_id}");
    let source = body
        .original_request
        .as_ref()
        .and_then(|o| o.source.clone())
        .filter(|s| !s.is_empty());
    let v2 = to_v2_body(body)?;
    let mut input = super::detect::parse_body(
        v2.to_string().as_bytes(),
        session,
        &app.engine.agent.language,
    )?;
    if let Some(s) = source {
        input.source = s;
    }
    let out = detect_intent(app, input).await?;
    let r = &out.result;
    let mut result = v1::result(&r.query_result);
    let webhook_used = r.webhook_status.is_some();
    if let Some(m) = result.get_mut("metadata").and_then(Value::as_object_mut) {
        if !m.is_empty() {
            m.insert("webhookUsed".into(), json!(webhook_used.to_string()));
        }
    }
    let status = match r
        .webhook_status
        .as_ref()
        .and_then(|w| w.get("code").map(|c| (c, w)))
    {
        Some((code, w)) => json!({
            "code": 206,
            "errorType": "partial_content",
            "errorDetails": w.get("message").cloned().unwrap_or(json!("")),
            "webhookTimedOut": code.as_i64() == Some(4),
        }),
        None if webhook_used => {
            json!({"code": 200, "errorType": "success", "webhookTimedOut": false})
        }
        None => json!({"code": 200, "errorType": "success"}),
    };
    Ok(json!({
        "id": r.response_id,
        "timestamp": app.clock.now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "lang": r.query_result.get("languageCode").cloned().unwrap_or(json!("")),
        "result": result,
        "status": status,
        "sessionId": session_id,
    }))
}

/// The same query as a V2 `DetectIntentRequest` body.
fn to_v2_body(b: QueryBody) -> Result<Value, ApiError> {
    let query = match b.query {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_string),
        Some(_) => return Err(ApiError::invalid("Field 'query' must be a string.")),
    };
    let query_input = match (query, b.event) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "Only one of 'query' and 'event' may be set.",
            ))
        }
        (Some(text), None) => json!({"text": {"text": text, "languageCode": b.lang}}),
        (None, Some(e)) => json!({"event": {"name": e.name, "parameters": e.data,
                                            "languageCode": b.lang}}),
        (None, None) => return Err(ApiError::invalid("Field 'query' or 'event' is required.")),
    };
    let contexts: Vec<Value> = b
        .contexts
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            json!({"name": c.name, "lifespanCount": c.lifespan.unwrap_or(5),
                   "parameters": c.parameters})
        })
        .collect();
    Ok(json!({
        "queryInput": query_input,
        "queryParams": {
            "timeZone": b.timezone.filter(|t| !t.is_empty()),
            "contexts": contexts,
            "resetContexts": b.reset_contexts,
            "payload": b.original_request.and_then(|o| o.data),
        }
    }))
}

pub fn error_body(app: &AppState, e: &ApiError) -> Value {
    let error_type = match e.http.as_u16() {
        400 | 413 => "bad_request",
        404 => "not_found",
        429 => "too_many_requests",
        503 => "service_unavailable",
        _ => "internal_server_error",
    };
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "timestamp": app.clock.now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "status": {"code": e.http.as_u16(), "errorType": error_type, "errorDetails": e.message},
    })
}
