//! The bodies of the connector callbacks (pure functions).

use chrono::{DateTime, SecondsFormat, Utc};
use sb_call::{EndStatus, TurnInput, TurnRecord};
use sb_nlu::dialog::TurnResult;
use serde_json::{Map, Value};

use super::CallInfo;

/// Twilio error code sent as `VirtualAgentErrorCode` when a session fails (the code under which
/// Twilio also reports `VirtualAgentProviderError`).
pub const FAILED_ERROR_CODE: &str = "32601";

/// `sentiment` of an analytics record when no score exists (the reference connector's text).
pub const NO_SENTIMENT: &str = "Request text is empty or sentiment analysis is not requested";

/// An `f32` as the JSON number it prints as (0.9, not 0.8999999761581421); non-finite → 0.
pub fn num(x: f32) -> Value {
    if !x.is_finite() {
        return Value::from(0);
    }
    format!("{x}")
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::from(0), Value::Number)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn f32_at(v: &Value, pointer: &str) -> Option<f32> {
    v.pointer(pointer).and_then(Value::as_f64).map(|x| x as f32)
}

/// Form fields of the `statusCallback` `intent` event, in Twilio's order.
pub fn intent_form(
    call: &CallInfo,
    provider: &str,
    result: &TurnResult,
    sentiment: Option<(f32, f32)>,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let qr = &result.query_result;
    let mut data = Map::new();
    data.insert("ConversationId".into(), call.conversation_id.clone().into());
    data.insert("EndUserId".into(), call.end_user_id.clone().into());
    data.insert("ReplyText".into(), result.reply_text.clone().into());
    let language = str_at(qr, "/languageCode")
        .filter(|l| !l.is_empty())
        .unwrap_or(&call.language);
    data.insert("LanguageCode".into(), language.into());
    data.insert(
        "Parameters".into(),
        Value::Object(result.parameters.clone()),
    );
    data.insert("Confidence".into(), num(result.confidence));
    if let Some(q) = str_at(qr, "/queryText") {
        data.insert("ResolvedInput".into(), q.into());
    }
    if let Some(id) = &result.intent_id {
        data.insert("IntentId".into(), id.clone().into());
    }
    if let Some(name) = &result.intent_name {
        data.insert("IntentDisplayName".into(), name.clone().into());
    }
    let sentiment = sentiment.or_else(|| {
        let base = "/sentimentAnalysisResult/queryTextSentiment";
        let score = f32_at(qr, &format!("{base}/score"))?;
        Some((
            score,
            f32_at(qr, &format!("{base}/magnitude")).unwrap_or(0.0),
        ))
    });
    if let Some((score, magnitude)) = sentiment {
        data.insert("SentimentAnalysisScore".into(), num(score));
        data.insert("SentimentAnalysisMagnitude".into(), num(magnitude));
    }
    vec![
        ("AccountSid".into(), call.account_sid.clone()),
        ("CallSid".into(), call.call_id.clone()),
        (
            "Timestamp".into(),
            now.to_rfc3339_opts(SecondsFormat::Millis, true),
        ),
        ("StatusCallbackEvent".into(), "intent".into()),
        ("VirtualAgentProvider".into(), provider.into()),
        (
            "VirtualAgentProviderData".into(),
            Value::Object(data).to_string(),
        ),
    ]
}

/// `VirtualAgentStatus` of an end status.
pub fn status_name(status: &EndStatus) -> &'static str {
    match status {
        EndStatus::Completed => "completed",
        EndStatus::LiveAgentHandoff { .. } => "live-agent-handoff",
        EndStatus::Paused { .. } => "paused",
        EndStatus::Failed { .. } => "failed",
    }
}

/// Form fields of the `action` URL request at session end: `AccountSid`, `CallSid` and the
/// [`virtual_agent_fields`].
pub fn ended_form(call: &CallInfo, provider: &str, status: &EndStatus) -> Vec<(String, String)> {
    let mut form = vec![
        ("AccountSid".into(), call.account_sid.clone()),
        ("CallSid".into(), call.call_id.clone()),
    ];
    form.extend(virtual_agent_fields(call, provider, status));
    form
}

/// The `VirtualAgent*` fields of the `action` request: provider, status, provider data and,
/// for a failed session, the error fields.
pub fn virtual_agent_fields(
    call: &CallInfo,
    provider: &str,
    status: &EndStatus,
) -> Vec<(String, String)> {
    let mut data = Map::new();
    data.insert("ConversationId".into(), call.conversation_id.clone().into());
    data.insert("EndUserId".into(), call.end_user_id.clone().into());
    match status {
        EndStatus::LiveAgentHandoff { params, .. } => {
            data.insert("AgentHandoffParameters".into(), params.clone());
        }
        EndStatus::Paused { params } => {
            let mut p = params.clone();
            p.remove("TWILIO_ACTION");
            data.insert("PauseParameters".into(), Value::Object(p));
        }
        EndStatus::Completed | EndStatus::Failed { .. } => {}
    }
    let mut form = vec![
        ("VirtualAgentProvider".into(), provider.into()),
        ("VirtualAgentStatus".into(), status_name(status).into()),
        (
            "VirtualAgentProviderData".into(),
            Value::Object(data).to_string(),
        ),
    ];
    if let EndStatus::Failed { error } = status {
        form.push(("VirtualAgentErrorCode".into(), FAILED_ERROR_CODE.into()));
        form.push(("VirtualAgentError".into(), error.clone()));
        form.push(("VirtualAgentProviderError".into(), error.clone()));
    }
    form
}

/// The Vonage reference connector's per-turn analytics JSON.
pub fn analytics_json(call: &CallInfo, record: &TurnRecord) -> Value {
    let qr = &record.query_result;
    let query_text = match str_at(qr, "/queryText") {
        Some(q) => q.to_owned(),
        None => match &record.input {
            TurnInput::Speech { text, .. } => text.clone(),
            TurnInput::Dtmf { digits } => digits.clone(),
            TurnInput::Event { .. } => String::new(),
        },
    };
    let fulfillment = str_at(qr, "/fulfillmentText").unwrap_or(&record.bot_text);
    let intent = str_at(qr, "/intent/displayName")
        .or(record.intent.as_deref())
        .unwrap_or("");
    let sentiment = match record.sentiment {
        Some((score, _)) => num(score),
        None => Value::from(NO_SENTIMENT),
    };
    serde_json::json!({
        "uuid": call.call_id,
        "queryText": query_text,
        "fulfillmentText": fulfillment,
        "sentiment": sentiment,
        "allRequiredParamsPresent": record.all_required_params_present,
        "action": str_at(qr, "/action").unwrap_or(""),
        "intent": intent,
    })
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn f32_prints_short() {
        assert_eq!(num(0.9).to_string(), "0.9");
        assert_eq!(num(-0.25).to_string(), "-0.25");
        assert_eq!(num(f32::NAN).to_string(), "0");
    }
}
