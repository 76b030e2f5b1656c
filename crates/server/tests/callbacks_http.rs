//! Connector callbacks against fake receivers: exact fields, signatures, retries, back-pressure.

mod callbacks_fake;

use std::time::Duration;

use callbacks_fake::{start, start_gated, Req};
use sb_call::{EndStatus, TurnInput, TurnRecord, TurnTimings};
use sb_nlu::dialog::TurnResult;
use sb_transport::verify_twilio_signature;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use switchboard::phone::callbacks::{
    CallInfo, CallbackConfig, CallbackStats, Callbacks, Transport,
};

const TOKEN: &str = "test-auth-token-not-a-secret";

fn call() -> CallInfo {
    CallInfo {
        call_id: "CA0123".into(),
        account_sid: "AC0123".into(),
        transport: Transport::Twilio,
        connector: "main".into(),
        end_user_id: "user-1".into(),
        conversation_id: "conv-1".into(),
        language: "en-US".into(),
        overrides: Default::default(),
    }
}

fn cfg() -> CallbackConfig {
    CallbackConfig {
        backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        timeout: Duration::from_secs(10),
        ..CallbackConfig::default()
    }
}

fn params() -> Map<String, Value> {
    json!({"size": "large", "count": 2})
        .as_object()
        .unwrap()
        .clone()
}

fn turn_result() -> TurnResult {
    TurnResult {
        response_id: "r1".into(),
        query_result: json!({
            "queryText": "a large pizza", "languageCode": "en", "action": "order.pizza",
            "fulfillmentText": "Anything else?",
            "intent": {"name": "projects/p/agent/intents/abc", "displayName": "order.pizza"},
        }),
        webhook_status: None,
        control: Default::default(),
        reply_text: "Anything else?".into(),
        intent_name: Some("order.pizza".into()),
        intent_id: Some("abc".into()),
        confidence: 0.9,
        parameters: params(),
        all_required_params_present: true,
    }
}

fn keys(r: &Req) -> Vec<String> {
    r.form().into_iter().map(|(k, _)| k).collect()
}

fn assert_signed(r: &Req, url: &str) {
    let form = r.form();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let sig = r.header("x-twilio-signature").expect("signature header");
    assert!(verify_twilio_signature(TOKEN, url, &pairs, &sig));
    assert!(!verify_twilio_signature("other-token", url, &pairs, &sig));
}

#[tokio::test]
async fn intent_status_callback_has_exact_fields_and_verifies() {
    let mut fake = start(vec![]).await;
    let cb = Callbacks::new(CallbackConfig {
        status_callback: Some(fake.url("/status")),
        auth_token: Some(TOKEN.into()),
        ..cfg()
    });
    cb.intent(&call(), &turn_result(), Some((0.5, 1.25)), at());
    let r = fake.next().await;
    assert_eq!(r.method, "POST");
    assert_eq!(r.uri, "/status");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        keys(&r),
        [
            "AccountSid",
            "CallSid",
            "Timestamp",
            "StatusCallbackEvent",
            "VirtualAgentProvider",
            "VirtualAgentProviderData"
        ]
    );
    assert_eq!(r.field("AccountSid").unwrap(), "AC0123");
    assert_eq!(r.field("CallSid").unwrap(), "CA0123");
    assert_eq!(r.field("StatusCallbackEvent").unwrap(), "intent");
    assert_eq!(r.field("VirtualAgentProvider").unwrap(), "DialogflowES");
    let ts = r.field("Timestamp").unwrap();
    assert!(ts.ends_with('Z'), "{ts}");
    let ts = chrono::DateTime::parse_from_rfc3339(&ts).expect("ISO 8601");
    assert_eq!(ts, at(), "the time given by the server's clock");
    let data: Value = serde_json::from_str(&r.field("VirtualAgentProviderData").unwrap()).unwrap();
    assert_eq!(
        data,
        json!({
            "ConversationId": "conv-1", "EndUserId": "user-1", "ReplyText": "Anything else?",
            "LanguageCode": "en", "Parameters": {"size": "large", "count": 2}, "Confidence": 0.9,
            "ResolvedInput": "a large pizza", "IntentId": "abc", "IntentDisplayName": "order.pizza",
            "SentimentAnalysisScore": 0.5, "SentimentAnalysisMagnitude": 1.25,
        })
    );
    assert_signed(&r, &fake.url("/status"));
    cb.flush().await;
    assert_eq!(
        cb.stats(),
        CallbackStats {
            sent: 1,
            failed: 0,
            dropped: 0
        }
    );
}

#[tokio::test]
async fn action_callback_for_each_end_status() {
    let mut fake = start(vec![]).await;
    let cb = Callbacks::new(CallbackConfig {
        action: Some(fake.url("/action?x=1")),
        auth_token: Some(TOKEN.into()),
        ..cfg()
    });
    let mut pause = Map::new();
    pause.insert("TWILIO_ACTION".into(), json!("PAUSE"));
    pause.insert("memberId".into(), json!("m-7"));
    let cases = [
        (EndStatus::Completed, "completed", json!({})),
        (
            EndStatus::LiveAgentHandoff {
                params: json!({"queue": "sales"}),
                transfer_to: None,
            },
            "live-agent-handoff",
            json!({"AgentHandoffParameters": {"queue": "sales"}}),
        ),
        (
            EndStatus::Paused { params: pause },
            "paused",
            json!({"PauseParameters": {"memberId": "m-7"}}),
        ),
        (
            EndStatus::Failed {
                error: "ASR down".into(),
            },
            "failed",
            json!({}),
        ),
    ];
    for (status, name, extra) in cases {
        cb.ended(&call(), &status);
        let r = fake.next().await;
        assert_eq!(r.uri, "/action?x=1");
        let mut expected_keys = vec![
            "AccountSid",
            "CallSid",
            "VirtualAgentProvider",
            "VirtualAgentStatus",
            "VirtualAgentProviderData",
        ];
        if name == "failed" {
            expected_keys.extend([
                "VirtualAgentErrorCode",
                "VirtualAgentError",
                "VirtualAgentProviderError",
            ]);
            assert_eq!(r.field("VirtualAgentErrorCode").unwrap(), "32601");
            assert_eq!(r.field("VirtualAgentError").unwrap(), "ASR down");
            assert_eq!(r.field("VirtualAgentProviderError").unwrap(), "ASR down");
        }
        assert_eq!(keys(&r), expected_keys);
        assert_eq!(r.field("AccountSid").unwrap(), "AC0123");
        assert_eq!(r.field("CallSid").unwrap(), "CA0123");
        assert_eq!(r.field("VirtualAgentStatus").unwrap(), name);
        let mut want = json!({"ConversationId": "conv-1", "EndUserId": "user-1"});
        want.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let data: Value =
            serde_json::from_str(&r.field("VirtualAgentProviderData").unwrap()).unwrap();
        assert_eq!(data, want, "{name}");
        assert_signed(&r, &fake.url("/action?x=1"));
    }
}

fn record(sentiment: Option<(f32, f32)>) -> TurnRecord {
    TurnRecord {
        turn: 1,
        input: TurnInput::Speech {
            text: "a large pizza".into(),
            confidence: 0.8,
        },
        intent: Some("order.pizza".into()),
        confidence: 0.9,
        parameters: params(),
        all_required_params_present: true,
        bot_text: "Anything else?".into(),
        sentiment,
        timings: TurnTimings::default(),
        query_result: turn_result().query_result,
        interrupted: false,
    }
}

#[tokio::test]
async fn analytics_json_matches_the_reference_connector() {
    let mut fake = start(vec![]).await;
    let cb = Callbacks::new(CallbackConfig {
        analytics: Some(fake.url("/analytics")),
        auth_token: Some(TOKEN.into()),
        ..cfg()
    });
    cb.analytics(&call(), &record(Some((-0.5, 0.5))));
    cb.analytics(&call(), &record(None));
    for sentiment in [
        json!(-0.5),
        json!("Request text is empty or sentiment analysis is not requested"),
    ] {
        let r = fake.next().await;
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            r.json(),
            json!({
                "uuid": "CA0123", "queryText": "a large pizza", "fulfillmentText": "Anything else?",
                "sentiment": sentiment, "allRequiredParamsPresent": true,
                "action": "order.pizza", "intent": "order.pizza",
            })
        );
        // Twilio's JSON-body scheme: bodySHA256 in the URL, signature over the URL alone.
        let hex: String = Sha256::digest(&r.body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(r.uri, format!("/analytics?bodySHA256={hex}"));
        let sig = r.header("x-twilio-signature").unwrap();
        assert!(verify_twilio_signature(TOKEN, &fake.url(&r.uri), &[], &sig));
    }
}

#[tokio::test]
async fn unsigned_without_auth_token() {
    let mut fake = start(vec![]).await;
    let cb = Callbacks::new(CallbackConfig {
        analytics: Some(fake.url("/a")),
        ..cfg()
    });
    cb.analytics(&call(), &record(None));
    let r = fake.next().await;
    assert_eq!(r.uri, "/a");
    assert_eq!(r.header("x-twilio-signature"), None);
}

#[tokio::test]
async fn retries_5xx_then_succeeds() {
    let mut fake = start(vec![500, 503]).await;
    let cb = Callbacks::new(CallbackConfig {
        status_callback: Some(fake.url("/s")),
        ..cfg()
    });
    cb.intent(&call(), &turn_result(), None, at());
    let first = fake.next().await.body;
    assert_eq!(fake.next().await.body, first);
    assert_eq!(fake.next().await.body, first);
    cb.flush().await;
    fake.assert_idle();
    assert_eq!(
        cb.stats(),
        CallbackStats {
            sent: 1,
            failed: 0,
            dropped: 0
        }
    );
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let mut fake = start(vec![500, 500, 500, 500]).await;
    let cb = Callbacks::new(CallbackConfig {
        action: Some(fake.url("/a")),
        ..cfg()
    });
    cb.ended(&call(), &EndStatus::Completed);
    for _ in 0..3 {
        fake.next().await;
    }
    cb.flush().await;
    fake.assert_idle();
    assert_eq!(
        cb.stats(),
        CallbackStats {
            sent: 0,
            failed: 1,
            dropped: 0
        }
    );
}

#[tokio::test]
async fn no_retry_on_4xx() {
    let mut fake = start(vec![400]).await;
    let cb = Callbacks::new(CallbackConfig {
        action: Some(fake.url("/a")),
        ..cfg()
    });
    cb.ended(&call(), &EndStatus::Completed);
    fake.next().await;
    cb.flush().await;
    fake.assert_idle();
    assert_eq!(
        cb.stats(),
        CallbackStats {
            sent: 0,
            failed: 1,
            dropped: 0
        }
    );
}

#[tokio::test]
async fn slow_receiver_never_blocks_and_overflow_is_dropped() {
    let mut fake = start_gated().await;
    let gate = fake.gate.clone().unwrap();
    let cb = Callbacks::new(CallbackConfig {
        status_callback: Some(fake.url("/s")),
        queue: 2,
        ..cfg()
    });
    let result = turn_result();
    cb.intent(&call(), &result, None, at());
    fake.next().await; // the worker is now stuck on this request
    for _ in 0..9 {
        cb.intent(&call(), &result, None, at()); // returns at once even though the receiver hangs
    }
    assert_eq!(
        cb.stats(),
        CallbackStats {
            sent: 0,
            failed: 0,
            dropped: 7
        }
    );
    gate.add_permits(3);
    fake.next().await;
    fake.next().await;
    cb.flush().await;
    fake.assert_idle();
    assert_eq!(
        cb.stats(),
        CallbackStats {
            sent: 3,
            failed: 0,
            dropped: 7
        }
    );
}

#[test]
fn without_a_runtime_callbacks_are_dropped_not_panicking() {
    let cb = Callbacks::new(CallbackConfig {
        status_callback: Some("http://127.0.0.1:9/".into()),
        ..cfg()
    });
    cb.intent(&call(), &turn_result(), None, at());
    assert_eq!(cb.stats().dropped, 1);
}

#[tokio::test]
async fn nothing_sent_for_unconfigured_urls() {
    let cb = Callbacks::new(cfg());
    cb.intent(&call(), &turn_result(), None, at());
    cb.analytics(&call(), &record(None));
    cb.ended(&call(), &EndStatus::Completed);
    cb.flush().await;
    assert_eq!(cb.stats(), CallbackStats::default());
}

/// The instant the tests' turns happen at (the server's clock, not the wall clock).
fn at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_714_557_600, 0).expect("2024-05-01T10:00:00Z")
}
