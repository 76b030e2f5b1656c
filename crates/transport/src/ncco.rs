//! Vonage NCCOs (call-control objects) and call-update bodies.

use serde_json::{json, Map, Value};

use crate::{Result, TransportError};

/// Vonage's limit on the serialized `headers` of a websocket endpoint.
pub const MAX_NCCO_HEADERS_BYTES: usize = 512;

/// What the caller hears while the WebSocket connects.
pub const CONNECTING_TEXT: &str = "Connecting your call, please wait.";

/// The answer NCCO: a short `talk`, then `connect` to the WebSocket `ws_url` at `rate`
/// (8000, 16000 or 24000) with `headers` (they arrive in the first WebSocket message; at most
/// 512 bytes once serialized). Call progress events go to `event_url`.
pub fn ncco_connect(
    ws_url: &str,
    event_url: &str,
    rate: u32,
    headers: &[(&str, &str)],
) -> Result<Value> {
    if !matches!(rate, 8000 | 16000 | 24000) {
        return Err(TransportError::Unsupported(format!("Vonage rate {rate}")));
    }
    let mut map = Map::new();
    for (k, v) in headers {
        if matches!(*k, "event" | "content-type") {
            return Err(TransportError::Unsupported(format!(
                "reserved header {k:?}"
            )));
        }
        map.insert((*k).to_owned(), Value::from(*v));
    }
    let headers = Value::Object(map);
    let len = headers.to_string().len();
    if len > MAX_NCCO_HEADERS_BYTES {
        return Err(TransportError::TooLarge {
            len,
            max: MAX_NCCO_HEADERS_BYTES,
        });
    }
    Ok(json!([
        {"action": "talk", "text": CONNECTING_TEXT},
        {
            "action": "connect",
            "eventUrl": [event_url],
            "endpoint": [{
                "type": "websocket",
                "uri": ws_url,
                "content-type": format!("audio/l16;rate={rate}"),
                "headers": headers,
            }],
        },
    ]))
}

/// NCCO that dials a phone number (a live-agent handoff), optionally with a caller id.
pub fn ncco_connect_phone(number: &str, from: Option<&str>) -> Value {
    let mut connect = json!({
        "action": "connect",
        "endpoint": [{"type": "phone", "number": number}],
    });
    if let (Some(from), Some(obj)) = (from, connect.as_object_mut()) {
        obj.insert("from".into(), Value::from(from));
    }
    json!([connect])
}

/// Body of `PUT /v1/calls/{uuid}` that moves a live call to `ncco` (an NCCO array).
pub fn ncco_transfer(ncco: Value) -> Result<Value> {
    if !ncco.is_array() {
        return Err(TransportError::Malformed(
            "an NCCO must be a JSON array".into(),
        ));
    }
    Ok(json!({"action": "transfer", "destination": {"type": "ncco", "ncco": ncco}}))
}

/// Body of `PUT /v1/calls/{uuid}` that hangs the call up.
pub fn vonage_hangup() -> Value {
    json!({"action": "hangup"})
}
