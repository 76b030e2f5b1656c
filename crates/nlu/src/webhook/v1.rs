//! The V1 (api.ai) webhook format, for agents whose export says `"onePlatformApiVersion": "v1legacy"`.
//!
//! The dialog only speaks V2: a V2 [`WebhookRequest`] is converted to the V1 body here, and a V1
//! reply (`speech`, `displayText`, `messages`, `contextOut`, `followupEvent`, `data`) is read into
//! a V2 [`WebhookResponse`].

use super::{EventInput, WebhookRequest, WebhookResponse, WireContext};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A V1 webhook reply. Unknown fields are ignored, every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V1Response {
    #[serde(default)]
    pub speech: Option<String>,
    #[serde(default)]
    pub display_text: Option<String>,
    /// An array of messages, or (as DF also accepted) a single one.
    #[serde(default)]
    pub messages: Option<Value>,
    #[serde(default)]
    pub data: Option<Map<String, Value>>,
    #[serde(default)]
    pub context_out: Option<Vec<V1Context>>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub followup_event: Option<V1Event>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct V1Context {
    pub name: String,
    #[serde(default)]
    pub lifespan: Option<i64>,
    #[serde(default)]
    pub parameters: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct V1Event {
    pub name: String,
    #[serde(default)]
    pub data: Option<Map<String, Value>>,
}

impl V1Response {
    pub fn into_v2(self) -> WebhookResponse {
        let messages: Vec<Value> = match self.messages {
            Some(Value::Array(a)) => a.iter().filter_map(message_to_v2).collect(),
            Some(m @ Value::Object(_)) => message_to_v2(&m).into_iter().collect(),
            _ => Vec::new(),
        };
        let text = self
            .speech
            .filter(|s| !s.is_empty())
            .or(self.display_text.filter(|s| !s.is_empty()));
        WebhookResponse {
            fulfillment_text: text,
            fulfillment_messages: (!messages.is_empty()).then_some(messages),
            source: self.source,
            payload: self.data,
            output_contexts: self.context_out.map(|cs| {
                cs.into_iter()
                    .map(|c| WireContext {
                        name: c.name,
                        lifespan_count: c.lifespan,
                        parameters: c.parameters,
                    })
                    .collect()
            }),
            followup_event_input: self.followup_event.map(|e| EventInput {
                name: e.name,
                language_code: None,
                parameters: e.data,
            }),
        }
    }
}

/// The V1 body for a V2 webhook request, sent at `now`.
pub fn request(req: &WebhookRequest, now: DateTime<Utc>) -> Value {
    let original = &req.original_detect_intent_request;
    let data = original
        .get("payload")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let source = original.get("source").cloned().unwrap_or(json!(""));
    let q = &req.query_result;
    json!({
        "originalRequest": {"source": source, "data": data},
        "id": req.response_id,
        "sessionId": session_id(&req.session),
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "timezone": "",
        "lang": q.get("languageCode").cloned().unwrap_or(json!("")),
        "result": result(q),
        "status": {"code": 200, "errorType": "success"},
    })
}

/// The session id alone: V1 had no resource paths.
pub fn session_id(session: &str) -> &str {
    session
        .rsplit_once("/sessions/")
        .map_or(session, |(_, id)| id)
}

/// A V2 `queryResult` as V1's `result`.
pub fn result(q: &Value) -> Value {
    let s = |k: &str| q.get(k).and_then(Value::as_str).unwrap_or("");
    let all_present = q
        .get("allRequiredParamsPresent")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let contexts: Vec<Value> = q
        .get("outputContexts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            let short = name.rsplit_once("/contexts/").map_or(name, |(_, n)| n);
            json!({
                "name": short,
                "parameters": c.get("parameters").cloned().unwrap_or_else(|| json!({})),
                "lifespan": c.get("lifespanCount").cloned().unwrap_or(json!(0)),
            })
        })
        .collect();
    let mut messages: Vec<Value> = q
        .get("fulfillmentMessages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(message_to_v1)
        .collect();
    if messages.is_empty() {
        messages.push(json!({"type": 0, "speech": s("fulfillmentText")}));
    }
    let intent = q.get("intent");
    let mut metadata = Map::new();
    if let Some(i) = intent {
        let name = i.get("name").and_then(Value::as_str).unwrap_or("");
        let id = name.rsplit_once('/').map_or(name, |(_, id)| id);
        metadata.insert("intentId".into(), json!(id));
        metadata.insert("webhookUsed".into(), json!("true"));
        metadata.insert(
            "webhookForSlotFillingUsed".into(),
            json!(if all_present { "false" } else { "true" }),
        );
        metadata.insert(
            "intentName".into(),
            i.get("displayName").cloned().unwrap_or(json!("")),
        );
        if i.get("endInteraction").and_then(Value::as_bool) == Some(true) {
            metadata.insert("endConversation".into(), json!(true));
        }
    }
    json!({
        "source": "agent",
        "resolvedQuery": s("queryText"),
        "speech": s("fulfillmentText"),
        "action": s("action"),
        "actionIncomplete": !all_present,
        "parameters": q.get("parameters").cloned().unwrap_or_else(|| json!({})),
        "contexts": contexts,
        "metadata": metadata,
        "fulfillment": {"speech": s("fulfillmentText"), "messages": messages},
        "score": q.get("intentDetectionConfidence").cloned().unwrap_or(json!(0)),
    })
}

/// V2 platform enum ↔ V1 platform name (`ACTIONS_ON_GOOGLE` ↔ `google`, `FACEBOOK` ↔ `facebook`…).
fn platform_to_v1(p: &str) -> Option<String> {
    match p {
        "" | "PLATFORM_UNSPECIFIED" => None,
        "ACTIONS_ON_GOOGLE" => Some("google".into()),
        other => Some(other.to_ascii_lowercase()),
    }
}

fn platform_to_v2(p: &str) -> Option<String> {
    match p.to_ascii_lowercase().as_str() {
        "" => None,
        "google" => Some("ACTIONS_ON_GOOGLE".into()),
        other => Some(other.to_ascii_uppercase()),
    }
}

/// One V2 `fulfillmentMessages` entry as a V1 message (`type` 0 text, 1 card, 2 quick replies,
/// 3 image, 4 payload, and the Google message types by name); `None` for kinds V1 cannot carry.
fn message_to_v1(m: &Value) -> Option<Value> {
    let mut out = if let Some(lines) = m.pointer("/text/text").and_then(Value::as_array) {
        let lines: Vec<&str> = lines.iter().filter_map(Value::as_str).collect();
        json!({"type": 0, "speech": lines.join("\n")})
    } else if let Some(c) = m.get("card") {
        let buttons: Vec<Value> = c
            .get("buttons")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|b| json!({"text": b.get("text"), "postback": b.get("postback")}))
            .collect();
        json!({"type": 1, "title": c.get("title"), "subtitle": c.get("subtitle"),
               "imageUrl": c.get("imageUri"), "buttons": buttons})
    } else if let Some(r) = m.get("quickReplies") {
        json!({"type": 2, "title": r.get("title"), "replies": r.get("quickReplies")})
    } else if let Some(i) = m.get("image") {
        json!({"type": 3, "imageUrl": i.get("imageUri")})
    } else if let Some(p) = m.get("payload") {
        json!({"type": 4, "payload": p})
    } else if let Some(list) = m
        .pointer("/simpleResponses/simpleResponses")
        .and_then(Value::as_array)
    {
        let first = list.first()?;
        json!({"type": "simple_response", "textToSpeech": first.get("textToSpeech"),
               "displayText": first.get("displayText")})
    } else if let Some(list) = m
        .pointer("/suggestions/suggestions")
        .and_then(Value::as_array)
    {
        json!({"type": "suggestion_chips", "suggestions": list})
    } else if let Some(c) = m.get("basicCard") {
        let buttons: Vec<Value> = c
            .get("buttons")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|b| {
                json!({"title": b.get("title"),
                       "openUrlAction": {"url": b.pointer("/openUriAction/uri")}})
            })
            .collect();
        json!({"type": "basic_card", "title": c.get("title"), "subtitle": c.get("subtitle"),
               "formattedText": c.get("formattedText"),
               "image": c.get("image").map(|i| json!({"url": i.get("imageUri"),
                                                       "accessibilityText": i.get("accessibilityText")})),
               "buttons": buttons})
    } else if let Some(l) = m.get("linkOutSuggestion") {
        json!({"type": "link_out_chip", "destinationName": l.get("destinationName"),
               "url": l.get("uri")})
    } else {
        return None;
    };
    if let Some(p) = m
        .get("platform")
        .and_then(Value::as_str)
        .and_then(platform_to_v1)
    {
        out["platform"] = json!(p);
    }
    Some(strip_nulls(out))
}

/// One V1 message (a webhook reply's, or an export's rich response) as a V2
/// `fulfillmentMessages` entry; `None` for types it does not know.
pub fn message_to_v2(m: &Value) -> Option<Value> {
    let ty = match m.get("type")? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let get = |k: &str| m.get(k).cloned().unwrap_or(Value::Null);
    let mut out = match ty.as_str() {
        "0" => {
            let speech = match m.get("speech") {
                Some(Value::String(s)) => s.clone(),
                // A list of variants: DF said one of them.
                Some(Value::Array(a)) => a.first().and_then(Value::as_str)?.to_string(),
                _ => return None,
            };
            json!({"text": {"text": [speech]}})
        }
        "1" => {
            let buttons: Vec<Value> = m
                .get("buttons")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|b| json!({"text": b.get("text"), "postback": b.get("postback")}))
                .collect();
            json!({"card": {"title": get("title"), "subtitle": get("subtitle"),
                            "imageUri": get("imageUrl"), "buttons": buttons}})
        }
        "2" => json!({"quickReplies": {"title": get("title"), "quickReplies": get("replies")}}),
        "3" => json!({"image": {"imageUri": get("imageUrl")}}),
        "4" | "custom_payload" => json!({"payload": get("payload")}),
        "simple_response" => {
            // Webhook replies carry one response; console exports a list of `items`.
            let items = match m.get("items").and_then(Value::as_array) {
                Some(items) => items.clone(),
                None => vec![m.clone()],
            };
            let list: Vec<Value> = items
                .iter()
                .map(|i| {
                    let ssml = i
                        .get("ssml")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty());
                    match ssml {
                        Some(ssml) => json!({"ssml": ssml, "displayText": i.get("displayText")}),
                        None => json!({"textToSpeech": i.get("textToSpeech"),
                                       "displayText": i.get("displayText")}),
                    }
                })
                .collect();
            json!({"simpleResponses": {"simpleResponses": list}})
        }
        "suggestion_chips" => json!({"suggestions": {"suggestions": get("suggestions")}}),
        "basic_card" => {
            let buttons: Vec<Value> = m
                .get("buttons")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|b| {
                    json!({"title": b.get("title"),
                           "openUriAction": {"uri": b.pointer("/openUrlAction/url")}})
                })
                .collect();
            json!({"basicCard": {"title": get("title"), "subtitle": get("subtitle"),
                "formattedText": get("formattedText"),
                "image": m.get("image").map(|i| json!({"imageUri": i.get("url"),
                                                        "accessibilityText": i.get("accessibilityText")})),
                "buttons": buttons}})
        }
        "link_out_chip" => json!({"linkOutSuggestion": {
            "destinationName": get("destinationName"), "uri": get("url")}}),
        _ => return None,
    };
    let platform = m
        .get("platform")
        .and_then(Value::as_str)
        .and_then(platform_to_v2);
    match (platform, ty.as_str()) {
        (Some(p), _) => out["platform"] = json!(p),
        (None, "simple_response" | "suggestion_chips" | "basic_card" | "link_out_chip") => {
            out["platform"] = json!("ACTIONS_ON_GOOGLE")
        }
        _ => {}
    }
    Some(strip_nulls(out))
}

/// Drops `null` members (fields the source message did not have).
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests;
