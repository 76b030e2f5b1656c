use super::*;
use crate::webhook::{WebhookFailure, WebhookFormat, WebhookOutcome};
use chrono::TimeZone;

fn v2_request() -> WebhookRequest {
    WebhookRequest {
        response_id: "resp-1".into(),
        session: "projects/shop/agent/sessions/abc-123".into(),
        query_result: json!({
            "queryText": "where is order 42",
            "languageCode": "en",
            "action": "order.check",
            "parameters": {"order": 42},
            "allRequiredParamsPresent": true,
            "fulfillmentText": "Let me check.",
            "fulfillmentMessages": [
                {"text": {"text": ["Let me check."]}},
                {"card": {"title": "Order", "imageUri": "https://x/i.png",
                          "buttons": [{"text": "Track", "postback": "https://x/t"}]},
                 "platform": "FACEBOOK"},
                {"telephonyPlayAudio": {"audioUri": "gs://a"}}
            ],
            "outputContexts": [{"name": "projects/shop/agent/sessions/abc-123/contexts/order-checked",
                                "lifespanCount": 2, "parameters": {"order": 42}}],
            "intent": {"name": "projects/shop/agent/intents/0b3e-77", "displayName": "Check Order"},
            "intentDetectionConfidence": 0.87
        }),
        original_detect_intent_request: json!({"source": "switchboard", "payload": {"channel": "web"}}),
    }
}

#[test]
fn v1_request_has_result_metadata_contexts_and_original_request() {
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 5).unwrap();
    let v = request(&v2_request(), now);
    assert_eq!(v["id"], "resp-1");
    assert_eq!(v["sessionId"], "abc-123");
    assert_eq!(v["timestamp"], "2026-12-03T10:00:05.000Z");
    assert_eq!(v["lang"], "en");
    assert_eq!(v["status"], json!({"code": 200, "errorType": "success"}));
    assert_eq!(
        v["originalRequest"],
        json!({"source": "switchboard", "data": {"channel": "web"}})
    );
    let r = &v["result"];
    assert_eq!(r["source"], "agent");
    assert_eq!(r["resolvedQuery"], "where is order 42");
    assert_eq!(r["action"], "order.check");
    assert_eq!(r["actionIncomplete"], false);
    assert_eq!(r["parameters"], json!({"order": 42}));
    assert_eq!(
        r["contexts"],
        json!([{"name": "order-checked", "parameters": {"order": 42}, "lifespan": 2}])
    );
    assert_eq!(r["metadata"]["intentId"], "0b3e-77");
    assert_eq!(r["metadata"]["intentName"], "Check Order");
    assert_eq!(r["metadata"]["webhookUsed"], "true");
    assert_eq!(r["metadata"]["webhookForSlotFillingUsed"], "false");
    assert_eq!(r["score"], 0.87);
    assert_eq!(r["fulfillment"]["speech"], "Let me check.");
    assert_eq!(
        r["fulfillment"]["messages"],
        json!([
            {"type": 0, "speech": "Let me check."},
            {"type": 1, "title": "Order", "imageUrl": "https://x/i.png",
             "buttons": [{"text": "Track", "postback": "https://x/t"}], "platform": "facebook"}
        ])
    );
}

#[test]
fn v1_request_during_slot_filling_marks_action_incomplete() {
    let mut req = v2_request();
    req.query_result["allRequiredParamsPresent"] = json!(false);
    req.query_result["fulfillmentMessages"] = json!([]);
    req.original_detect_intent_request = json!({"source": "twilio"});
    let v = request(&req, Utc::now());
    assert_eq!(v["result"]["actionIncomplete"], true);
    assert_eq!(v["result"]["metadata"]["webhookForSlotFillingUsed"], "true");
    assert_eq!(
        v["result"]["fulfillment"]["messages"],
        json!([{"type": 0, "speech": "Let me check."}])
    );
    assert_eq!(
        v["originalRequest"],
        json!({"source": "twilio", "data": {}})
    );
}

fn v1_reply(body: Value) -> WebhookResponse {
    match WebhookOutcome::from_body_as(WebhookFormat::V1, 200, body.to_string().as_bytes()) {
        WebhookOutcome::Ok(r) => r,
        WebhookOutcome::Failed { message, .. } => panic!("{message}"),
    }
}

#[test]
fn v1_reply_speech_context_out_followup_event_and_data_become_v2() {
    let r = v1_reply(json!({
        "speech": "Order 42 ships today.",
        "displayText": "Order 42: ships today",
        "contextOut": [{"name": "order-tracking", "lifespan": 3, "parameters": {"order": 42}}],
        "followupEvent": {"name": "ORDER_SHIPPED", "data": {"order": "42"}},
        "data": {"google": {"expectUserResponse": true}},
        "source": "shop.example"
    }));
    assert_eq!(r.fulfillment_text.as_deref(), Some("Order 42 ships today."));
    assert_eq!(r.fulfillment_messages, None);
    assert_eq!(r.source.as_deref(), Some("shop.example"));
    assert_eq!(
        r.payload.map(Value::Object),
        Some(json!({"google": {"expectUserResponse": true}}))
    );
    let ctx = r.output_contexts.unwrap_or_default();
    assert_eq!(ctx.len(), 1);
    assert_eq!(ctx[0].name, "order-tracking");
    assert_eq!(ctx[0].lifespan_count, Some(3));
    let ev = r.followup_event_input.unwrap_or_default();
    assert_eq!(ev.name, "ORDER_SHIPPED");
    assert_eq!(
        ev.parameters.map(Value::Object),
        Some(json!({"order": "42"}))
    );
}

#[test]
fn v1_reply_messages_as_list_or_single_object() {
    let r = v1_reply(json!({
        "displayText": "Shown only",
        "messages": [
            {"type": 0, "speech": ["first variant", "second variant"]},
            {"type": 2, "title": "Pick", "replies": ["a", "b"], "platform": "telegram"},
            {"type": "simple_response", "textToSpeech": "Hi", "platform": "google"},
            {"type": 99}
        ]
    }));
    assert_eq!(r.fulfillment_text.as_deref(), Some("Shown only"));
    assert_eq!(
        r.fulfillment_messages,
        Some(vec![
            json!({"text": {"text": ["first variant"]}}),
            json!({"quickReplies": {"title": "Pick", "quickReplies": ["a", "b"]}, "platform": "TELEGRAM"}),
            json!({"simpleResponses": {"simpleResponses": [{"textToSpeech": "Hi"}]},
                   "platform": "ACTIONS_ON_GOOGLE"}),
        ])
    );
    let one = v1_reply(json!({"messages": {"type": 3, "imageUrl": "https://x/i.png"}}));
    assert_eq!(
        one.fulfillment_messages,
        Some(vec![json!({"image": {"imageUri": "https://x/i.png"}})])
    );
}

#[test]
fn v1_failures_are_worded_like_dialogflow_v1() {
    let msg = |o: WebhookOutcome| match o {
        WebhookOutcome::Failed { code, message } => (code, message),
        WebhookOutcome::Ok(r) => panic!("{r:?}"),
    };
    assert_eq!(
        msg(WebhookOutcome::from_body_as(
            WebhookFormat::V1,
            500,
            b"oops"
        )),
        (
            14,
            "Webhook call failed. Error: 500 Internal Server Error".into()
        )
    );
    assert_eq!(
        msg(WebhookOutcome::from_body_as(WebhookFormat::V1, 200, b"  ")),
        (
            13,
            "Webhook call failed. Error: Webhook response was empty.".into()
        )
    );
    assert_eq!(
        msg(WebhookOutcome::from_body_as(WebhookFormat::V1, 200, b"[1]")),
        (
            13,
            "Webhook call failed. Error: Make sure your JSON response conforms to our requirements."
                .into()
        )
    );
    assert_eq!(
        WebhookFailure::Timeout.message(WebhookFormat::V1),
        "Webhook call failed. Error: Request timeout."
    );
    assert_eq!(
        WebhookFailure::Timeout.message(WebhookFormat::V2),
        "Webhook call failed. Error: DEADLINE_EXCEEDED."
    );
}

#[test]
fn api_version_field_selects_the_format() {
    assert_eq!(
        WebhookFormat::of_api_version(Some("v1legacy")),
        WebhookFormat::V1
    );
    assert_eq!(WebhookFormat::of_api_version(Some("v2")), WebhookFormat::V2);
    assert_eq!(
        WebhookFormat::of_api_version(Some("v2beta1")),
        WebhookFormat::V2
    );
    assert_eq!(WebhookFormat::of_api_version(None), WebhookFormat::V2);
}

#[test]
fn google_only_reply_speaks_its_simple_responses() {
    let body = json!({"payload": {"google": {"expectUserResponse": true, "richResponse": {"items": [
        {"simpleResponse": {"textToSpeech": "Order 7 is on its way."}},
        {"simpleResponse": {"textToSpeech": "<speak>Anything <break time=\"1s\"/>else?</speak>"}}
    ]}}}});
    let WebhookOutcome::Ok(r) = WebhookOutcome::from_body(200, body.to_string().as_bytes()) else {
        panic!("parsed")
    };
    assert_eq!(
        r.fulfillment_text.as_deref(),
        Some("Order 7 is on its way. Anything else?")
    );
    let with_text = json!({"fulfillmentText": "Own text", "payload": body["payload"]});
    let WebhookOutcome::Ok(r) = WebhookOutcome::from_body(200, with_text.to_string().as_bytes())
    else {
        panic!("parsed")
    };
    assert_eq!(r.fulfillment_text.as_deref(), Some("Own text"));
}

#[test]
fn export_rich_responses_become_v2_messages() {
    let chips = json!({"type": "suggestion_chips", "platform": "google", "lang": "en",
                       "suggestions": [{"title": "Hours"}, {"title": "Location"}]});
    assert_eq!(
        message_to_v2(&chips),
        Some(
            json!({"suggestions": {"suggestions": [{"title": "Hours"}, {"title": "Location"}]},
                    "platform": "ACTIONS_ON_GOOGLE"})
        )
    );
    let simple = json!({"type": "simple_response", "platform": "google", "lang": "en",
                        "items": [{"textToSpeech": "Hello", "ssml": "", "displayText": "Hi"}]});
    assert_eq!(
        message_to_v2(&simple),
        Some(
            json!({"simpleResponses": {"simpleResponses": [{"textToSpeech": "Hello", "displayText": "Hi"}]},
                    "platform": "ACTIONS_ON_GOOGLE"})
        )
    );
    let card = json!({"type": "basic_card", "platform": "google", "title": "Shop",
                      "formattedText": "Open late", "image": {"url": "https://x/i.png"},
                      "buttons": [{"title": "Map", "openUrlAction": {"url": "https://x/map"}}]});
    assert_eq!(
        message_to_v2(&card),
        Some(
            json!({"basicCard": {"title": "Shop", "formattedText": "Open late",
                                  "image": {"imageUri": "https://x/i.png"},
                                  "buttons": [{"title": "Map", "openUriAction": {"uri": "https://x/map"}}]},
                    "platform": "ACTIONS_ON_GOOGLE"})
        )
    );
    assert_eq!(
        message_to_v2(&json!({"type": "list_card", "items": []})),
        None
    );
}
