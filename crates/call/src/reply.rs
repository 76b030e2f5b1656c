//! What a phone call says for an engine answer. Dialogflow's phone gateway plays an intent's
//! telephony responses (platform `TELEPHONY`: text, `telephonySynthesizeSpeech`,
//! `telephonyPlayAudio`) in their order, after its default-platform texts (the telephony sample
//! agent sets "use the default responses first"; an answer without telephony messages is just
//! its `fulfillmentText`). `telephonyTransferCall` says nothing: it is call control
//! (`TurnControl::transfer_to`).
//!
//! A reply with rich parts is one SSML document (`<break>` for silences, `<audio src>` for
//! clips) that the speech side reads back with [`sb_contracts::ssml::read`]; a plain reply stays
//! plain text, so prompt caches keyed by text keep working.

use sb_contracts::ssml::{self, Piece};
use sb_nlu::dialog::TurnResult;
use serde_json::Value;

/// The text (or SSML document) to say for `result` on a phone call.
pub fn phone_reply(result: &TurnResult) -> String {
    let messages = result
        .query_result
        .get("fulfillmentMessages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let platform = |m: &Value| {
        m.get("platform")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let telephony: Vec<&Value> = messages
        .iter()
        .filter(|m| platform(m).as_deref() == Some("TELEPHONY"))
        .collect();
    if telephony.is_empty() {
        return result.reply_text.trim().to_string();
    }
    let mut pieces = Vec::new();
    for m in messages {
        if matches!(platform(m).as_deref(), None | Some("PLATFORM_UNSPECIFIED")) {
            for t in texts(m) {
                pieces.extend(ssml::pieces_of(t).pieces);
            }
        }
    }
    for m in telephony {
        for t in texts(m) {
            pieces.extend(ssml::pieces_of(t).pieces);
        }
        if let Some(s) = m.get("telephonySynthesizeSpeech") {
            if let Some(doc) = s.get("ssml").and_then(Value::as_str) {
                pieces.extend(ssml::read(doc).pieces);
            } else if let Some(t) = s.get("text").and_then(Value::as_str) {
                pieces.extend(ssml::pieces_of(t).pieces);
            }
        }
        if let Some(uri) = m
            .pointer("/telephonyPlayAudio/audioUri")
            .and_then(Value::as_str)
            .filter(|u| !u.trim().is_empty())
        {
            pieces.push(Piece::Audio {
                src: uri.trim().to_string(),
                fallback: String::new(),
            });
        }
    }
    if pieces.is_empty() {
        return String::new();
    }
    ssml::to_ssml(&pieces)
}

/// `a` then `b` as one reply (either may be SSML).
pub fn join(a: &str, b: &str) -> String {
    let (a, b) = (a.trim(), b.trim());
    if !ssml::is_ssml(a) && !ssml::is_ssml(b) {
        return [a, b]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
    }
    let mut pieces = ssml::pieces_of(a).pieces;
    pieces.extend(ssml::pieces_of(b).pieces);
    ssml::to_ssml(&pieces)
}

fn texts(m: &Value) -> impl Iterator<Item = &str> {
    m.pointer("/text/text")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(messages: Value, text: &str) -> TurnResult {
        TurnResult {
            response_id: "r".into(),
            query_result: json!({ "fulfillmentMessages": messages }),
            webhook_status: None,
            control: Default::default(),
            reply_text: text.into(),
            intent_name: None,
            intent_id: None,
            confidence: 1.0,
            parameters: Default::default(),
            all_required_params_present: true,
        }
    }

    #[test]
    fn without_telephony_messages_the_reply_is_the_fulfillment_text() {
        let r = result(
            json!([{"text": {"text": ["Hello there"]}}]),
            " Hello there ",
        );
        assert_eq!(phone_reply(&r), "Hello there");
    }

    #[test]
    fn telephony_messages_follow_the_default_texts_in_order() {
        let r = result(
            json!([
                {"platform": "TELEPHONY", "telephonySynthesizeSpeech": {"ssml": "<speak>Transferring<break time=\"300ms\"/></speak>"}},
                {"platform": "TELEPHONY", "telephonyPlayAudio": {"audioUri": "http://h/p.wav"}},
                {"platform": "TELEPHONY", "telephonyTransferCall": {"phoneNumber": "+12023334444"}},
                {"text": {"text": ["One moment & thanks"]}},
                {"platform": "FACEBOOK", "text": {"text": ["not said"]}},
            ]),
            "One moment & thanks",
        );
        let reading = ssml::read(&phone_reply(&r));
        assert_eq!(reading.warning, None);
        assert_eq!(
            reading.pieces,
            [
                Piece::Speech {
                    text: "One moment & thanks Transferring".into(),
                    rate: 1.0
                },
                Piece::Silence { ms: 300 },
                Piece::Audio {
                    src: "http://h/p.wav".into(),
                    fallback: String::new()
                },
            ]
        );
    }

    #[test]
    fn telephony_text_and_plain_synthesize_text_are_said() {
        let r = result(
            json!([
                {"platform": "TELEPHONY", "text": {"text": ["Hi caller"]}},
                {"platform": "TELEPHONY", "telephonySynthesizeSpeech": {"text": "a < b"}},
            ]),
            "Hi caller",
        );
        assert_eq!(ssml::read(&phone_reply(&r)).spoken_text(), "Hi caller a b");
    }

    #[test]
    fn joined_prompts_stay_one_document() {
        assert_eq!(join("Sorry?", "Say again"), "Sorry? Say again");
        let j = join("Sorry?", "<speak>Hi<break time=\"1s\"/>there</speak>");
        let r = ssml::read(&j);
        assert_eq!(r.warning, None);
        assert_eq!(r.pieces.len(), 3);
        assert_eq!(r.spoken_text(), "Sorry? Hi there");
    }
}
