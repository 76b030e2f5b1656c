//! Serde shapes of the export files, lenient where real exports vary, and their conversion.

use crate::agent::*;
use crate::webhook::WebhookFormat;
use crate::NluError;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RawAgent {
    pub display_name: Option<String>,
    pub language: Option<String>,
    /// The export's other languages (its default one is `language`).
    #[serde(default)]
    pub supported_languages: Vec<String>,
    pub default_timezone: Option<String>,
    pub ml_min_confidence: Option<f64>,
    pub analyze_query_text_sentiment: Option<bool>,
    #[serde(default)]
    pub webhook: Option<RawWebhook>,
    #[serde(default)]
    pub google_assistant: Option<RawGoogleAssistant>,
    /// `v2`, `v2beta1`, or `v1legacy` for agents still on the V1 API.
    pub one_platform_api_version: Option<String>,
    /// Switchboard's own settings (Dialogflow ignores the key).
    #[serde(default)]
    pub switchboard: Option<RawSwitchboard>,
}

/// agent.json `"switchboard": {…}`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RawSwitchboard {
    /// See `Agent::confirm_below`.
    pub confirm_below_confidence: Option<f64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RawWebhook {
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub available: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RawGoogleAssistant {
    pub project: Option<String>,
    #[serde(default)]
    pub end_intent_ids: Vec<String>,
}

impl RawAgent {
    pub fn webhook_config(&self) -> Option<WebhookConfig> {
        let w = self.webhook.as_ref()?;
        let url = w.url.clone().filter(|u| !u.trim().is_empty())?;
        if w.available == Some(false) {
            return None;
        }
        Some(WebhookConfig {
            url,
            username: w.username.clone().filter(|s| !s.is_empty()),
            password: w.password.clone().filter(|s| !s.is_empty()),
            headers: w.headers.clone(),
            format: WebhookFormat::of_api_version(self.one_platform_api_version.as_deref()),
        })
    }
    pub fn end_intent_ids(&self) -> Vec<String> {
        self.google_assistant
            .as_ref()
            .map(|g| g.end_intent_ids.clone())
            .unwrap_or_default()
    }
    pub fn project(&self) -> Option<String> {
        self.google_assistant
            .as_ref()
            .and_then(|g| g.project.clone())
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RawIntent {
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub contexts: Vec<String>,
    #[serde(default)]
    pub responses: Vec<RawResponse>,
    pub priority: Option<i64>,
    #[serde(default)]
    pub webhook_used: bool,
    #[serde(default)]
    pub webhook_for_slot_filling: bool,
    #[serde(default)]
    pub fallback_intent: bool,
    #[serde(default)]
    pub events: Vec<RawEvent>,
    pub parent_id: Option<String>,
    pub root_parent_id: Option<String>,
    #[serde(default)]
    pub end_interaction: bool,
    pub user_says: Option<Vec<RawPhrase>>,
}

#[derive(Debug, Deserialize, Default)]
pub struct RawEvent {
    pub name: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RawResponse {
    #[serde(default)]
    pub reset_contexts: bool,
    pub action: Option<String>,
    #[serde(default)]
    pub affected_contexts: Vec<RawContext>,
    #[serde(default)]
    pub parameters: Vec<RawParameter>,
    #[serde(default)]
    pub messages: Vec<Value>,
    #[serde(default)]
    pub end_conversation: bool,
    /// `{"telephony": true, "google": true}`; any other shape or value counts as none listed.
    #[serde(default)]
    pub default_response_platforms: Value,
}

#[derive(Debug, Deserialize, Default)]
pub struct RawContext {
    pub name: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    pub lifespan: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RawParameter {
    pub name: String,
    #[serde(default)]
    pub data_type: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub is_list: bool,
    #[serde(default)]
    pub prompts: Vec<RawPrompt>,
    pub default_value: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct RawPrompt {
    pub lang: Option<String>,
    pub value: String,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct RawPhrase {
    #[serde(default)]
    pub data: Vec<RawPart>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct RawPart {
    pub text: String,
    pub meta: Option<String>,
    pub alias: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RawEntity {
    pub name: String,
    #[serde(default)]
    pub is_enum: bool,
    #[serde(default)]
    pub is_regexp: bool,
    #[serde(default)]
    pub automated_expansion: bool,
    #[serde(default)]
    pub allow_fuzzy_extraction: bool,
    pub entries: Option<Vec<RawEntry>>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct RawEntry {
    pub value: String,
    #[serde(default)]
    pub synonyms: Vec<String>,
}

impl RawIntent {
    pub fn into_intent(
        self,
        file: &str,
        lang: &str,
        phrases: Vec<RawPhrase>,
        end_ids: &[String],
    ) -> Result<Intent, NluError> {
        if self.name.trim().is_empty() {
            return Err(NluError::field(file, "name", "intent name is empty"));
        }
        let id = self
            .id
            .clone()
            .unwrap_or_else(|| format!("intent-{}", self.name));
        let response = self.responses.into_iter().next().unwrap_or_default();
        let default_response_platforms = response
            .default_response_platforms
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(_, on)| on.as_bool() == Some(true))
                    .map(|(p, _)| p.to_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let mut messages = Vec::new();
        for (i, m) in response.messages.iter().enumerate() {
            if let Some(msg) = parse_message(m, lang)
                .map_err(|e| NluError::field(file, format!("responses[0].messages[{i}]"), e))?
            {
                messages.push(msg);
            }
        }
        let mut parameters = Vec::new();
        for p in response.parameters {
            if p.name.trim().is_empty() {
                return Err(NluError::field(
                    file,
                    "responses[0].parameters[].name",
                    "parameter name is empty",
                ));
            }
            let prompts = p
                .prompts
                .into_iter()
                .filter(|pr| pr.lang.as_deref().is_none_or(|l| l == lang))
                .map(|pr| pr.value)
                .collect();
            parameters.push(Parameter {
                name: p.name,
                data_type: p.data_type,
                value: p.value,
                required: p.required,
                is_list: p.is_list,
                prompts,
                default_value: p.default_value.filter(|d| !d.is_empty()),
            });
        }
        let output_contexts = response
            .affected_contexts
            .into_iter()
            .map(|c| OutputContext {
                name: c.name.to_lowercase(),
                lifespan: c.lifespan.unwrap_or(5).clamp(0, 10_000) as u32,
                parameters: c.parameters,
            })
            .collect();
        let training_phrases = phrases
            .into_iter()
            .map(|p| TrainingPhrase {
                parts: p
                    .data
                    .into_iter()
                    .map(|d| {
                        let slot = d
                            .meta
                            .as_deref()
                            .is_some_and(|m| m.starts_with('@') && m != "@sys.ignore");
                        PhrasePart {
                            text: d.text,
                            entity: if slot { d.meta } else { None },
                            alias: if slot { d.alias } else { None },
                        }
                    })
                    .collect(),
            })
            .filter(|p| !p.text().trim().is_empty())
            .collect();
        Ok(Intent {
            end_interaction: self.end_interaction
                || response.end_conversation
                || end_ids.contains(&id),
            id,
            name: self.name,
            input_contexts: self.contexts.iter().map(|c| c.to_lowercase()).collect(),
            events: self
                .events
                .into_iter()
                .map(|e| e.name)
                .filter(|n| !n.is_empty())
                .collect(),
            priority: self.priority.unwrap_or(500_000),
            is_fallback: self.fallback_intent,
            webhook_used: self.webhook_used,
            webhook_for_slot_filling: self.webhook_for_slot_filling,
            parent_id: self.parent_id,
            root_parent_id: self.root_parent_id,
            action: response.action.filter(|a| !a.is_empty()),
            reset_contexts: response.reset_contexts,
            output_contexts,
            parameters,
            messages,
            default_response_platforms,
            training_phrases,
        })
    }
}

/// One response message; `Ok(None)` for messages of another language.
fn parse_message(m: &Value, lang: &str) -> Result<Option<Message>, String> {
    let obj = m.as_object().ok_or("a message must be an object")?;
    if let Some(l) = obj.get("lang").and_then(Value::as_str) {
        if l != lang {
            return Ok(None);
        }
    }
    let platform = obj
        .get("platform")
        .and_then(Value::as_str)
        .map(str::to_string);
    let kind = match obj.get("type") {
        Some(Value::Number(n)) => n.as_i64().ok_or("`type` must be an integer")?,
        // Newer exports name rich types ("suggestion_chips", "card"…): kept as they are.
        Some(Value::String(s)) => s.parse::<i64>().unwrap_or(-1),
        None => 0,
        _ => return Err("`type` must be a number".into()),
    };
    let s = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Some(match kind {
        0 => {
            let variants = match obj.get("speech") {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                None => Vec::new(),
                _ => return Err("`speech` must be a string or a list of strings".into()),
            };
            Message::Text { variants, platform }
        }
        4 => Message::Payload {
            payload: obj.get("payload").cloned().unwrap_or(Value::Null),
            platform,
        },
        13 => Message::PlayAudio {
            audio_uri: s("audioUri").unwrap_or_default(),
            platform,
        },
        14 => Message::SynthesizeSpeech {
            text: s("textToSpeech").or_else(|| s("text")),
            ssml: s("ssml"),
            platform,
        },
        15 => Message::TransferCall {
            phone_number: s("phoneNumber").unwrap_or_default(),
            platform,
        },
        other => Message::Other {
            kind: other,
            raw: m.clone(),
            platform,
        },
    }))
}

impl RawEntity {
    pub fn into_entity(self, file: &str, entries: Vec<RawEntry>) -> Result<EntityType, NluError> {
        if self.name.trim().is_empty() {
            return Err(NluError::field(file, "name", "entity name is empty"));
        }
        let kind = if self.is_regexp {
            EntityKind::Regexp
        } else if self.is_enum {
            EntityKind::List
        } else {
            EntityKind::Map
        };
        Ok(EntityType {
            name: self.name,
            kind,
            automated_expansion: self.automated_expansion,
            allow_fuzzy_extraction: self.allow_fuzzy_extraction,
            entries: entries
                .into_iter()
                .map(|e| EntityEntry {
                    value: e.value,
                    synonyms: e.synonyms,
                })
                .collect(),
        })
    }
}
