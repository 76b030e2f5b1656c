//! Platform signatures on the phone routes: `X-Twilio-Signature` on the media WebSocket upgrade
//! (Twilio signs it like any webhook: the `<Stream url>` it connects to, `wss://…`, no
//! parameters) and Vonage's signed-webhook JWT on the answer and event URLs.
//!
//! A check runs when a secret for it is configured: the connector's Twilio `auth_token` /
//! Vonage `signature_secret`. Where the request does not name its connector (the media upgrade,
//! the event URL) any configured secret that verifies it is enough.

use super::setup::Phone;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sb_transport::{verify_twilio_signature, verify_vonage_webhook};

fn forbidden(what: &str) -> Response {
    (StatusCode::FORBIDDEN, format!("invalid {what}\n")).into_response()
}

/// The Twilio auth tokens of every connector, each once.
fn twilio_tokens(p: &Phone) -> Vec<&str> {
    let mut v: Vec<&str> = p
        .connectors
        .values()
        .filter_map(|c| c.cfg.twilio.auth_token.as_deref())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The Twilio media upgrade: `ws_url` is the stream URL as our TwiML gave it to Twilio.
/// `Some(refusal)` when the signature is missing or wrong.
pub fn twilio_upgrade(p: &Phone, ws_url: &str, headers: &HeaderMap) -> Option<Response> {
    let tokens = twilio_tokens(p);
    if tokens.is_empty() {
        return None;
    }
    let sig = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // The same URL with https: tolerated, as proxies and Twilio's own tools differ.
    let https = ws_url
        .strip_prefix("wss://")
        .map(|r| format!("https://{r}"))
        .or_else(|| ws_url.strip_prefix("ws://").map(|r| format!("http://{r}")));
    let ok = !sig.is_empty()
        && tokens.iter().any(|t| {
            verify_twilio_signature(t, ws_url, &[], sig)
                || https
                    .as_deref()
                    .is_some_and(|u| verify_twilio_signature(t, u, &[], sig))
        });
    if ok {
        None
    } else {
        tracing::warn!("Twilio media upgrade with a bad X-Twilio-Signature");
        Some(forbidden("X-Twilio-Signature"))
    }
}

/// A Vonage answer or event request. `secrets`: the signature secrets that may have signed it
/// (none: no check); `payload`: the body of a POST, [`sb_transport::vonage_sig::query_payload`]
/// of a GET. `Some(refusal)` when no secret verifies it.
pub fn vonage_webhook(
    p: &Phone,
    secrets: &[&str],
    headers: &HeaderMap,
    payload: &[u8],
) -> Option<Response> {
    if secrets.is_empty() {
        return None;
    }
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let now = u64::try_from(p.clock.now().timestamp()).unwrap_or(0);
    let mut last = None;
    for s in secrets {
        match verify_vonage_webhook(s, auth, payload, now) {
            Ok(_) => return None,
            Err(e) => last = Some(e),
        }
    }
    if let Some(e) = last {
        tracing::warn!(error = %e, "Vonage webhook with a bad signature");
    }
    Some(forbidden("Vonage webhook signature"))
}

/// Every connector's Vonage signature secret, each once.
pub fn vonage_secrets(p: &Phone) -> Vec<&str> {
    let mut v: Vec<&str> = p
        .connectors
        .values()
        .filter_map(|c| c.cfg.vonage.signature_secret.as_deref())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The payload a Vonage request's token hashes: the body, or for a body-less GET its query.
pub fn vonage_payload(query: Option<&str>, body: &[u8]) -> Vec<u8> {
    if !body.is_empty() {
        return body.to_vec();
    }
    let pairs: Vec<(String, String)> =
        match reqwest::Url::parse(&format!("http://x/?{}", query.unwrap_or(""))) {
            Ok(u) => u
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            Err(_) => Vec::new(),
        };
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sb_transport::vonage_sig::query_payload(&refs).into_bytes()
}
