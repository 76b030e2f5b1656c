//! Status callbacks of the calls placed from the console: Twilio's (form, signed with
//! `X-Twilio-Signature` over the public URL) and Vonage's (JSON events). Each status is kept on
//! the placed call and noted in the transcript for the agents.

use super::model::Who;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::sync::Arc;

fn note(leg: &str, status: &str) -> String {
    format!("{leg} call: {status}")
}

async fn record(app: &AppState, conversation: &str, call_id: &str, status: &str) -> StatusCode {
    let Some(live) = app.web.hub.get(conversation) else {
        // Resolved meanwhile: nothing to update, and nothing for the platform to retry.
        return StatusCode::NO_CONTENT;
    };
    let status: String = status
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect();
    let r = app
        .web
        .hub
        .change(&live, |t| {
            let leg = t
                .conv
                .meta
                .calls
                .iter()
                .find(|c| c.id == call_id)
                .map(|c| c.leg.clone());
            if let Some(leg) = leg {
                if t.call_status(call_id, &status) {
                    t.add(Who::Note, None, note(&leg, &status), Vec::new(), None);
                }
                true
            } else {
                false
            }
        })
        .await;
    match r {
        Ok(true) => StatusCode::NO_CONTENT,
        Ok(false) => StatusCode::NOT_FOUND,
        Err(e) => {
            tracing::error!(error = %e, "console: recording a call status failed");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

pub async fn twilio_status(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(dialer) = app.web.dialer.get() else {
        return StatusCode::NOT_FOUND;
    };
    let Some((token, url)) = dialer.twilio_callback(&format!("/console/twilio/status/{id}")) else {
        return StatusCode::NOT_FOUND;
    };
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let sig = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if !sb_transport::verify_twilio_signature(token, &url, &refs, sig) {
        tracing::warn!("console: Twilio status callback with a bad signature");
        return StatusCode::FORBIDDEN;
    }
    let get = |k: &str| refs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    match (get("CallSid"), get("CallStatus")) {
        (Some(sid), Some(status)) => record(&app, &id, sid, status).await,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Vonage call events. Unsigned: they only update the status text of a call this server placed
/// (the uuid must match), shown to agents.
pub async fn vonage_event(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    match (
        v.get("uuid").and_then(Value::as_str),
        v.get("status").and_then(Value::as_str),
    ) {
        (Some(uuid), Some(status)) => record(&app, &id, uuid, status).await,
        _ => StatusCode::NO_CONTENT,
    }
}
