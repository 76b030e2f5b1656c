//! The `<Connect action>` hop of calls started by our TwiML (`POST /twilio/action`).
//!
//! Twilio's `<Connect><VirtualAgent>` ends when the bot ends, pauses, hands off or fails; Twilio
//! then requests the `<Connect action>` URL and runs the TwiML it answers. Our TwiML's
//! `<Connect action>` is this route: when a call's stream ends, the driver leaves the call's
//! [`Ending`] here (before it closes the socket), Twilio requests `/twilio/action`, and we
//!
//! * forward the request to the customer's action URL (the call's `action` parameter, else the
//!   connector's `action`) with its method, carrying exactly Twilio's standard request
//!   parameters and the `VirtualAgent*` fields, signed as Twilio signs, and answer with what
//!   the customer's app answered (its `<Dial>`, `<Enqueue>`, `<Gather>`, a resuming
//!   `<Connect>`…);
//! * or, without an action URL, answer ourselves ([`super::handoff::Handoff::twilio_end_twiml`]:
//!   the `end_of_interaction_url` redirect of Twilio's Dialogflow sample, a transfer's
//!   `<Dial>`, or `<Hangup/>`).
//!
//! Only URLs from the connector's settings or the call's own stream parameters are requested,
//! never one named by the action request itself.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sb_call::EndStatus;
use serde_json::Value;
use tokio::sync::Notify;

use super::callbacks::{form_request, virtual_agent_fields, CallInfo, Overrides, Transport};
use super::routes::{not_enabled, pairs, public_origin};
use super::setup::ConnectorRt;
use crate::state::AppState;

/// Twilio's standard request parameters (voice): what Twilio sends with every request about a
/// call, and what the hop forwards of Twilio's request.
pub const TWILIO_STANDARD_PARAMS: [&str; 31] = [
    "AccountSid",
    "ApiVersion",
    "ApplicationSid",
    "CallSid",
    "CallStatus",
    "CallToken",
    "Called",
    "CalledCity",
    "CalledCountry",
    "CalledState",
    "CalledZip",
    "Caller",
    "CallerCity",
    "CallerCountry",
    "CallerName",
    "CallerState",
    "CallerZip",
    "Direction",
    "ForwardedFrom",
    "From",
    "FromCity",
    "FromCountry",
    "FromState",
    "FromZip",
    "ParentCallSid",
    "StirVerstat",
    "To",
    "ToCity",
    "ToCountry",
    "ToState",
    "ToZip",
];

/// How long the hop waits for the call's ending (Twilio may ask while the driver is still
/// writing the call's record).
pub const ENDING_WAIT: Duration = Duration::from_secs(2);
/// Longest wait for the customer's action URL (Twilio's own limit is 15 s).
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest TwiML taken from the customer's app (Twilio's limit on a TwiML document).
pub const MAX_TWIML_BYTES: usize = 64 * 1024;
/// Endings kept for their action request.
const MAX_ENDINGS: usize = 1_024;

/// How a call's session ended, kept for its action request.
#[derive(Debug, Clone)]
pub struct Ending {
    pub info: CallInfo,
    pub status: EndStatus,
    /// The last DF query result (`dialogflowJSON` of the sample's redirect).
    pub query_result: Value,
}

/// Endings waiting for their action request, newest last, bounded.
#[derive(Default)]
pub struct Endings {
    q: Mutex<VecDeque<(String, Ending)>>,
    arrived: Notify,
}

impl Endings {
    pub fn put(&self, call_id: &str, ending: Ending) {
        if let Ok(mut q) = self.q.lock() {
            q.retain(|(id, _)| id != call_id);
            if q.len() >= MAX_ENDINGS {
                q.pop_front();
            }
            q.push_back((call_id.to_string(), ending));
        }
        self.arrived.notify_waiters();
    }

    fn try_take(&self, call_id: &str) -> Option<Ending> {
        let mut q = self.q.lock().ok()?;
        let i = q.iter().position(|(id, _)| id == call_id)?;
        q.remove(i).map(|(_, e)| e)
    }

    /// The ending of `call_id`, once; waits up to `wait` for it to arrive.
    pub async fn take(&self, call_id: &str, wait: Duration) -> Option<Ending> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrived = self.arrived.notified();
            if let Some(e) = self.try_take(call_id) {
                return Some(e);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.try_take(call_id);
            }
        }
    }
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

/// `GET|POST /twilio/action?connector=NAME`: Twilio's request after the stream of a call
/// started by our TwiML ended.
pub async fn twilio_action(
    State(app): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(p) = app.phone.get().cloned() else {
        return not_enabled();
    };
    let query = pairs(uri.query().unwrap_or(""));
    let name = query
        .iter()
        .find(|(k, _)| k == "connector")
        .map_or("", |(_, v)| v.as_str());
    let Some(conn) = p.connector(name) else {
        return (
            StatusCode::NOT_FOUND,
            format!("unknown connector `{name}`\n"),
        )
            .into_response();
    };
    let fields = if method == Method::POST {
        pairs(std::str::from_utf8(&body).unwrap_or(""))
    } else {
        query
            .iter()
            .filter(|(k, _)| k != "connector")
            .cloned()
            .collect()
    };
    if let Some(token) = conn.cfg.twilio.auth_token.as_deref() {
        let (scheme, host) = public_origin(&p, &headers);
        let path = uri
            .path_and_query()
            .map_or("/twilio/action", |p| p.as_str());
        let url = format!("{scheme}://{host}{path}");
        let signed: Vec<(&str, &str)> = if method == Method::POST {
            fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect()
        } else {
            Vec::new()
        };
        let sig = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if sig.is_empty() || !sb_transport::verify_twilio_signature(token, &url, &signed, sig) {
            tracing::warn!(connector = %conn.name, "action request with a bad X-Twilio-Signature");
            return (StatusCode::FORBIDDEN, "invalid X-Twilio-Signature\n").into_response();
        }
    }
    let field = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let call_sid = field("CallSid").to_string();
    if call_sid.is_empty() {
        return (StatusCode::BAD_REQUEST, "CallSid is missing\n").into_response();
    }
    let ending = match p.endings.take(&call_sid, ENDING_WAIT).await {
        Some(e) => e,
        None => {
            tracing::warn!(call = %call_sid, "action request for a call without a session");
            no_session(&conn, &call_sid, field("AccountSid"))
        }
    };
    answer(&conn, &ending, &fields).await
}

/// The ending reported for a call whose stream never ran (or ran on another server).
fn no_session(conn: &ConnectorRt, call_sid: &str, account_sid: &str) -> Ending {
    let project = conn
        .engine
        .agent
        .project
        .clone()
        .unwrap_or_else(|| "switchboard".into());
    Ending {
        info: CallInfo {
            call_id: call_sid.to_string(),
            account_sid: account_sid.to_string(),
            transport: Transport::Twilio,
            connector: conn.name.clone(),
            end_user_id: call_sid.to_string(),
            conversation_id: format!("projects/{project}/agent/sessions/{call_sid}"),
            language: conn.cfg.language.clone(),
            overrides: Overrides::default(),
        },
        status: EndStatus::Failed {
            error: "no virtual agent session ran on this call".into(),
        },
        query_result: Value::Null,
    }
}

/// Forwards to the customer's action URL, or answers for it.
async fn answer(conn: &ConnectorRt, ending: &Ending, twilio: &[(String, String)]) -> Response {
    let cfg = conn.callbacks.config();
    let Some((url, method)) = ending.info.action_target(cfg) else {
        let twiml = conn
            .handoff
            .twilio_end_twiml(&ending.status, &ending.query_result);
        return xml(StatusCode::OK, twiml);
    };
    let mut form: Vec<(String, String)> = twilio
        .iter()
        .filter(|(k, _)| TWILIO_STANDARD_PARAMS.contains(&k.as_str()))
        .cloned()
        .collect();
    form.extend(virtual_agent_fields(
        &ending.info,
        &cfg.provider,
        &ending.status,
    ));
    let client = super::callbacks::send::client(FORWARD_TIMEOUT);
    let token = conn.cfg.twilio.auth_token.as_deref();
    let call = &ending.info.call_id;
    let resp = match form_request(&client, token, &url, method, &form)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(call = %call, error = %e.without_url(), "action URL unreachable");
            return (StatusCode::BAD_GATEWAY, "the action URL did not answer\n").into_response();
        }
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/xml")
        .to_string();
    match read_limited(resp, MAX_TWIML_BYTES).await {
        Some(body) => {
            if !status.is_success() {
                tracing::warn!(call = %call, %status, "action URL answered with an error");
            }
            (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => {
            tracing::warn!(call = %call, "action URL answer too large or cut");
            (
                StatusCode::BAD_GATEWAY,
                "the action URL's answer is unusable\n",
            )
                .into_response()
        }
    }
}

/// The body, unless longer than `max` or cut.
async fn read_limited(mut resp: reqwest::Response, max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.ok()? {
        if out.len() + chunk.len() > max {
            return None;
        }
        out.extend_from_slice(&chunk);
    }
    Some(out)
}
