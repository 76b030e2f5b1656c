//! Small helpers for picking fields out of untrusted JSON messages.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::{Result, TransportError};

/// Largest text message any codec accepts (bytes).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

pub(crate) type Obj = Map<String, Value>;

/// Parses a text message into a JSON object, bounding its size first.
pub(crate) fn parse_object(text: &str) -> Result<Obj> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(TransportError::TooLarge {
            len: text.len(),
            max: MAX_TEXT_BYTES,
        });
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(malformed("message is not a JSON object")),
        Err(e) => Err(malformed(format!("invalid JSON: {e}"))),
    }
}

pub(crate) fn malformed(msg: impl Into<String>) -> TransportError {
    TransportError::Malformed(msg.into())
}

/// A required string field.
pub(crate) fn req_str<'a>(obj: &'a Obj, key: &str) -> Result<&'a str> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(malformed(format!("field {key:?} is not a string"))),
        None => Err(malformed(format!("missing field {key:?}"))),
    }
}

/// An optional string field (absent or null → None; another type → error).
pub(crate) fn opt_str<'a>(obj: &'a Obj, key: &str) -> Result<Option<&'a str>> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(Some(s)),
        None | Some(Value::Null) => Ok(None),
        Some(_) => Err(malformed(format!("field {key:?} is not a string"))),
    }
}

/// A required nested object.
pub(crate) fn req_obj<'a>(obj: &'a Obj, key: &str) -> Result<&'a Obj> {
    match obj.get(key) {
        Some(Value::Object(o)) => Ok(o),
        Some(_) => Err(malformed(format!("field {key:?} is not an object"))),
        None => Err(malformed(format!("missing field {key:?}"))),
    }
}

/// An optional nested object.
pub(crate) fn opt_obj<'a>(obj: &'a Obj, key: &str) -> Result<Option<&'a Obj>> {
    match obj.get(key) {
        Some(Value::Object(o)) => Ok(Some(o)),
        None | Some(Value::Null) => Ok(None),
        Some(_) => Err(malformed(format!("field {key:?} is not an object"))),
    }
}

/// An optional unsigned integer given as a JSON number or a decimal string (Twilio sends
/// counters as strings).
pub(crate) fn opt_uint(obj: &Obj, key: &str) -> Result<Option<u64>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| malformed(format!("field {key:?} is not an unsigned integer"))),
        Some(Value::String(s)) => {
            if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed(format!("field {key:?} is not a decimal counter")));
            }
            s.parse::<u64>()
                .map(Some)
                .map_err(|_| malformed(format!("field {key:?} is out of range")))
        }
        Some(_) => Err(malformed(format!("field {key:?} is not a number"))),
    }
}

/// A JSON scalar rendered as a plain string (strings unquoted); objects and arrays as JSON text.
pub(crate) fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A `{"k":"v"}` object as a string map (non-string values rendered with [`value_to_string`]).
pub(crate) fn string_map(obj: &Obj) -> BTreeMap<String, String> {
    obj.iter()
        .map(|(k, v)| (k.clone(), value_to_string(v)))
        .collect()
}

/// A DTMF digit: exactly one of `0-9 * # A-D` (lower case accepted and upper-cased).
pub(crate) fn dtmf_digit(s: &str) -> Result<char> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#' => Ok(c),
        (Some(c), None) if ('A'..='D').contains(&c.to_ascii_uppercase()) => {
            Ok(c.to_ascii_uppercase())
        }
        _ => Err(malformed(format!("invalid DTMF digit {s:?}"))),
    }
}

/// Decodes a standard base64 payload of at most `max_bytes` decoded bytes.
pub(crate) fn decode_b64(payload: &str, max_bytes: usize) -> Result<Vec<u8>> {
    let max_chars = max_bytes.div_ceil(3) * 4;
    if payload.len() > max_chars {
        return Err(TransportError::TooLarge {
            len: payload.len() / 4 * 3,
            max: max_bytes,
        });
    }
    base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(|_| TransportError::BadBase64("media.payload"))
}

pub(crate) fn encode_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Serializes an outbound message (a plain struct: cannot fail in practice).
pub(crate) fn to_text<T: serde::Serialize>(msg: &T) -> Result<String> {
    serde_json::to_string(msg).map_err(|e| malformed(format!("serialize: {e}")))
}
