//! HTTP and WebSocket routes of the phone path: Twilio TwiML + media stream, Vonage answer/event
//! + media stream, transcripts (`/v1/calls`) and `/metrics`.

use super::accept::run_call;
use super::setup::Phone;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sb_transport::{ncco_connect, twiml_connect_stream_action, verify_twilio_signature, Platform};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The phone routes (state applied by [`crate::api::router`]).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/twilio/twiml", get(twilio_twiml).post(twilio_twiml))
        .route(
            "/twilio/twiml/{connector}",
            get(twilio_twiml_for).post(twilio_twiml_for),
        )
        .route(
            "/twilio/action",
            get(super::action::twilio_action).post(super::action::twilio_action),
        )
        .route("/twilio/media", get(twilio_media))
        .route("/vonage/answer", get(vonage_answer).post(vonage_answer))
        .route("/vonage/event", post(vonage_event).get(vonage_event))
        .route("/vonage/media", get(vonage_media))
        .route("/v1/calls", get(list_calls))
        .route("/v1/calls/{id}", get(get_call))
        .route("/metrics", get(metrics))
}

pub(crate) fn not_enabled() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the phone path is not enabled\n",
    )
        .into_response()
}

pub(crate) fn pairs(query: &str) -> Vec<(String, String)> {
    match reqwest::Url::parse(&format!("http://x/?{query}")) {
        Ok(u) => u
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `(scheme, host)` of the public URL: configured, else `X-Forwarded-Proto` / `X-Forwarded-Host`
/// / `Host` (scheme `https` unless forwarded as `http`).
pub(crate) fn public_origin(p: &Phone, headers: &HeaderMap) -> (String, String) {
    if let Some(u) = p
        .file
        .phone
        .public_url
        .as_deref()
        .and_then(|u| reqwest::Url::parse(u).ok())
    {
        let host = match (u.host_str(), u.port()) {
            (Some(h), Some(port)) => format!("{h}:{port}"),
            (Some(h), None) => h.to_string(),
            _ => String::new(),
        };
        return (u.scheme().to_string(), host);
    }
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
    };
    let scheme = match h("x-forwarded-proto").as_deref() {
        Some("http") => "http",
        _ => "https",
    };
    let host = h("x-forwarded-host")
        .or_else(|| h("host"))
        .unwrap_or_default();
    (scheme.to_string(), host)
}

fn ws_scheme(http: &str) -> &'static str {
    if http == "http" {
        "ws"
    } else {
        "wss"
    }
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

async fn twilio_twiml(
    State(app): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    twiml_answer(app, None, method, uri, headers, body).await
}

/// `/twilio/twiml/{connector}`: the connector named by the path.
async fn twilio_twiml_for(
    State(app): State<Arc<AppState>>,
    Path(connector): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    twiml_answer(app, Some(connector), method, uri, headers, body).await
}

/// Our `<Connect><VirtualAgent>`: `<Connect action="…/twilio/action?connector=NAME"
/// method="POST"><Stream url="wss://…/twilio/media">` with the call's settings as
/// `<Parameter>`s (see [`super::params::twiml_parameters`]).
async fn twiml_answer(
    app: Arc<AppState>,
    path_connector: Option<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(p) = app.phone.get().cloned() else {
        return not_enabled();
    };
    let query_pairs = pairs(uri.query().unwrap_or(""));
    let query: BTreeMap<String, String> = query_pairs.iter().cloned().collect();
    let name = path_connector
        .as_deref()
        .or(query.get("connector").map(String::as_str))
        .or(query.get("connectorName").map(String::as_str))
        .unwrap_or("");
    let Some(conn) = p.connector(name) else {
        return (
            StatusCode::NOT_FOUND,
            format!("unknown connector `{name}`\n"),
        )
            .into_response();
    };
    let (scheme, host) = public_origin(&p, &headers);
    let form = if method == Method::POST {
        pairs(std::str::from_utf8(&body).unwrap_or(""))
    } else {
        Vec::new()
    };
    if let Some(token) = conn.cfg.twilio.auth_token.as_deref() {
        let form_refs: Vec<(&str, &str)> =
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/twilio/twiml");
        let url = format!("{scheme}://{host}{path}");
        let sig = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if sig.is_empty() || !verify_twilio_signature(token, &url, &form_refs, sig) {
            tracing::warn!(connector = %conn.name, "TwiML request with a bad X-Twilio-Signature");
            return (StatusCode::FORBIDDEN, "invalid X-Twilio-Signature\n").into_response();
        }
    }
    let ws_url = format!("{}://{host}/twilio/media", ws_scheme(&scheme));
    let action = format!(
        "{scheme}://{host}/twilio/action?connector={}",
        super::handoff::encode_uri_component(&conn.name)
    );
    let twilio_fields = if method == Method::POST {
        &form
    } else {
        &query_pairs
    };
    let params = super::params::twiml_parameters(&conn.name, &query_pairs, twilio_fields);
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    xml(twiml_connect_stream_action(&ws_url, &action, "POST", &refs))
}

async fn media(
    app: Arc<AppState>,
    ws: WebSocketUpgrade,
    platform: Platform,
    headers: HeaderMap,
) -> Response {
    let Some(p) = app.phone.get().cloned() else {
        return not_enabled();
    };
    if platform == Platform::Twilio {
        let (scheme, host) = public_origin(&p, &headers);
        let url = format!("{}://{host}/twilio/media", ws_scheme(&scheme));
        if let Some(r) = super::guard::twilio_upgrade(&p, &url, &headers) {
            return r;
        }
    }
    // The slot itself is taken at the start message (see `admission`).
    if p.slots.available_permits() == 0 {
        p.metrics
            .refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return (StatusCode::SERVICE_UNAVAILABLE, "too many calls\n").into_response();
    }
    let Some(permit) = p.admission.try_pending() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many streams waiting to start\n",
        )
            .into_response();
    };
    // The socket takes up to 4× the limit, so that a message over `max_message_bytes` reaches
    // the driver, which skips and counts it as bad (`accept::to_wire`); beyond 4× the socket
    // itself is closed (only this call ends).
    let cap = p.file.phone.max_message_bytes.saturating_mul(4);
    ws.max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| run_call(socket, platform, p, permit))
}

async fn twilio_media(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    media(app, ws, Platform::Twilio, headers).await
}

async fn vonage_media(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    media(app, ws, Platform::Vonage, headers).await
}

async fn vonage_answer(
    State(app): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(p) = app.phone.get().cloned() else {
        return not_enabled();
    };
    let mut fields: BTreeMap<String, String> =
        pairs(q.as_deref().unwrap_or("")).into_iter().collect();
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&body) {
        for (k, v) in m {
            if let Value::String(s) = v {
                fields.entry(k).or_insert(s);
            }
        }
    }
    let name = fields.get("connector").cloned().unwrap_or_default();
    let Some(conn) = p.connector(&name) else {
        return (
            StatusCode::NOT_FOUND,
            format!("unknown connector `{name}`\n"),
        )
            .into_response();
    };
    let secrets: Vec<&str> = conn
        .cfg
        .vonage
        .signature_secret
        .as_deref()
        .into_iter()
        .collect();
    let payload = super::guard::vonage_payload(q.as_deref(), &body);
    if let Some(r) = super::guard::vonage_webhook(&p, &secrets, &headers, &payload) {
        return r;
    }
    let (scheme, host) = public_origin(&p, &headers);
    let ws_url = format!("{}://{host}/vonage/media", ws_scheme(&scheme));
    let event_url = format!("{scheme}://{host}/vonage/event");
    let uuid = fields.get("uuid").cloned().unwrap_or_default();
    let mut hdrs: Vec<(&str, &str)> =
        vec![("uuid", uuid.as_str()), ("connector", conn.name.as_str())];
    // The caller's identity, for `$session.params` and the webhook's telephony payload.
    for k in ["from", "to"] {
        if let Some(v) = fields.get(k).filter(|v| !v.is_empty()) {
            hdrs.push((k, v.as_str()));
        }
    }
    for (k, v) in &fields {
        if super::params::is_call_setting(k) && k != "connector" {
            hdrs.push((k.as_str(), v.as_str()));
        }
    }
    match ncco_connect(&ws_url, &event_url, 16_000, &hdrs) {
        Ok(ncco) => axum::Json(ncco).into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("cannot build the NCCO: {e}\n"),
        )
            .into_response(),
    }
}

/// Call progress from Vonage: logged; a `disconnected` websocket leg of a handed-off call gets
/// the transfer NCCO so the call continues.
async fn vonage_event(
    State(app): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(p) = app.phone.get() {
        let payload = super::guard::vonage_payload(q.as_deref(), &body);
        if let Some(r) =
            super::guard::vonage_webhook(p, &super::guard::vonage_secrets(p), &headers, &payload)
        {
            return r;
        }
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        tracing::debug!("vonage event without a JSON body");
        return StatusCode::OK.into_response();
    };
    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    let (status, uuid, conv) = (field("status"), field("uuid"), field("conversation_uuid"));
    tracing::info!(call = %uuid, status, "vonage event");
    if status == "disconnected" {
        if let Some(ncco) = app.phone.get().and_then(|p| p.take_handoff(&[uuid, conv])) {
            return axum::Json(ncco).into_response();
        }
    }
    StatusCode::OK.into_response()
}

async fn list_calls(State(app): State<Arc<AppState>>, RawQuery(q): RawQuery) -> Response {
    let Some(p) = app.phone.get().cloned() else {
        return not_enabled();
    };
    let limit = pairs(q.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "limit")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(100);
    match p.calls.list(limit).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

async fn get_call(State(app): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let Some(p) = app.phone.get().cloned() else {
        return not_enabled();
    };
    match p.calls.get(&id).await {
        Ok(Some(v)) => axum::Json(v).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, &format!("call `{id}` not found")),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

fn error(code: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"code": code.as_u16(), "message": message}});
    (code, axum::Json(body)).into_response()
}

async fn metrics(State(app): State<Arc<AppState>>) -> Response {
    let mut text = app
        .phone
        .get()
        .map(|p| p.metrics.render())
        .unwrap_or_default();
    text.push_str(&crate::gauges::render(&app));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
