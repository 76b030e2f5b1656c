//! Live-agent handoff against fake Twilio and Vonage REST APIs.

mod callbacks_fake;

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use callbacks_fake::{decode, start};
use sb_call::EndStatus;
use sb_transport::TwilioCredentials;
use serde_json::json;
use switchboard::phone::callbacks::{CallInfo, RetryPolicy, Transport};
use switchboard::phone::handoff::{Handoff, HandoffConfig, HandoffError};

const TOKEN: &str = "test-auth-token-not-a-secret";

fn call(transport: Transport) -> CallInfo {
    CallInfo {
        call_id: "CA0123".into(),
        account_sid: "AC0123".into(),
        transport,
        connector: "main".into(),
        end_user_id: "user-1".into(),
        conversation_id: "conv-1".into(),
        language: "en-US".into(),
        overrides: Default::default(),
    }
}

fn handoff_status(transfer_to: Option<&str>) -> EndStatus {
    EndStatus::LiveAgentHandoff {
        params: json!({"queue": "sales"}),
        transfer_to: transfer_to.map(str::to_owned),
    }
}

fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    }
}

fn twilio_cfg(base: String) -> HandoffConfig {
    HandoffConfig {
        twilio_api_base: base,
        twilio: Some(TwilioCredentials {
            account_sid: "AC0123".into(),
            auth_token: TOKEN.into(),
        }),
        action_url: Some("https://app.example/after?leg=1".into()),
        retry: retry(),
        ..HandoffConfig::default()
    }
}

fn pem(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../transport/tests/data")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

#[tokio::test]
async fn twilio_call_update_redirects_with_the_df_json() {
    let mut fake = start(vec![503]).await;
    let h = Handoff::new(twilio_cfg(fake.url("")));
    let df = json!({
        "queryText": "agent please",
        "action": "handoff",
        "parameters": {"queue": "sales"},
        "intent": {"name": "projects/p/agent/intents/i-1", "displayName": "Live Agent Handoff"}
    });
    h.handoff(&call(Transport::Twilio), &handoff_status(None), &df)
        .await
        .unwrap();
    let first = fake.next().await; // 503, retried
    let r = fake.next().await;
    assert_eq!(first.body, r.body);
    assert_eq!(r.method, "POST");
    assert_eq!(r.uri, "/2010-04-01/Accounts/AC0123/Calls/CA0123.json");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("AC0123:{TOKEN}"));
    assert_eq!(r.header("authorization"), Some(format!("Basic {basic}")));
    let form = r.form();
    assert_eq!(form.len(), 1);
    assert_eq!(form[0].0, "Twiml");
    let twiml = &form[0].1;
    let prefix = "<Response><Redirect>https://app.example/after?leg=1&amp;dialogflowJSON=";
    assert!(twiml.starts_with(prefix), "{twiml}");
    let encoded = twiml[prefix.len()..]
        .strip_suffix("</Redirect></Response>")
        .unwrap();
    assert!(!encoded.contains(['{', '"', ' ', '&']));
    // Twilio's Dialogflow sample sends the final query result's intent and parameters.
    assert_eq!(
        decode(encoded),
        r#"{"intent":{"name":"projects/p/agent/intents/i-1","displayName":"Live Agent Handoff"},"parameters":{"queue":"sales"}}"#
    );
    fake.assert_idle();
}

#[tokio::test]
async fn twilio_without_action_url_hangs_up() {
    let mut fake = start(vec![]).await;
    let h = Handoff::new(HandoffConfig {
        action_url: None,
        ..twilio_cfg(fake.url("/"))
    });
    h.handoff(&call(Transport::Twilio), &EndStatus::Completed, &json!({}))
        .await
        .unwrap();
    let r = fake.next().await;
    assert_eq!(r.uri, "/2010-04-01/Accounts/AC0123/Calls/CA0123.json");
    assert_eq!(
        r.form(),
        [(
            "Twiml".to_owned(),
            "<Response><Hangup/></Response>".to_owned()
        )]
    );
}

#[tokio::test]
async fn twilio_4xx_is_not_retried() {
    let mut fake = start(vec![404]).await;
    let h = Handoff::new(twilio_cfg(fake.url("")));
    let err = h
        .handoff(&call(Transport::Twilio), &handoff_status(None), &json!({}))
        .await
        .unwrap_err();
    assert_eq!(err, HandoffError::Rejected { status: 404 });
    fake.next().await;
    fake.assert_idle();
}

#[tokio::test]
async fn missing_credentials_are_an_error() {
    let h = Handoff::new(HandoffConfig::default());
    let e = h
        .handoff(&call(Transport::Twilio), &handoff_status(None), &json!({}))
        .await;
    assert_eq!(e, Err(HandoffError::NotConfigured("Twilio")));
    let e = h
        .handoff(&call(Transport::Vonage), &handoff_status(None), &json!({}))
        .await;
    assert_eq!(e, Err(HandoffError::NotConfigured("Vonage")));
}

fn vonage_cfg(base: String) -> HandoffConfig {
    HandoffConfig {
        vonage_api_base: base,
        vonage: Some(("app-123".into(), pem("test_only_vonage_private.pem"))),
        transfer_number: Some("15550000000".into()),
        transfer_from: Some("15551111111".into()),
        transfer_text: Some("Connecting you to an agent.".into()),
        retry: retry(),
        ..HandoffConfig::default()
    }
}

#[derive(serde::Deserialize)]
struct Claims {
    application_id: String,
    iat: u64,
    exp: u64,
    jti: String,
}

fn verify_jwt(auth: &str) -> Claims {
    let jwt = auth.strip_prefix("Bearer ").expect("bearer");
    let key =
        jsonwebtoken::DecodingKey::from_rsa_pem(pem("test_only_vonage_public.pem").as_bytes())
            .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.required_spec_claims = ["exp".to_owned()].into();
    jsonwebtoken::decode::<Claims>(jwt, &key, &v)
        .unwrap()
        .claims
}

#[tokio::test]
async fn vonage_transfer_with_a_verified_jwt() {
    let mut fake = start(vec![500, 204]).await;
    let h = Handoff::new(vonage_cfg(fake.url("")));
    let mut c = call(Transport::Vonage);
    c.call_id = "63f61863-4a51-4f6b-86e1-46edebcf9356".into();
    h.handoff(&c, &handoff_status(Some("+15552222222")), &json!({}))
        .await
        .unwrap();
    fake.next().await; // 500, retried
    let r = fake.next().await;
    assert_eq!(r.method, "PUT");
    assert_eq!(r.uri, "/v1/calls/63f61863-4a51-4f6b-86e1-46edebcf9356");
    let claims = verify_jwt(&r.header("authorization").unwrap());
    assert_eq!(claims.application_id, "app-123");
    assert_eq!(claims.exp - claims.iat, 300);
    assert!(!claims.jti.is_empty());
    assert_eq!(
        r.json(),
        json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [
            {"action": "talk", "text": "Connecting you to an agent."},
            {"action": "connect", "from": "15551111111",
             "endpoint": [{"type": "phone", "number": "+15552222222"}]},
        ]}})
    );
    fake.assert_idle();
}

#[tokio::test]
async fn vonage_configured_ncco_and_fallback_number() {
    let mut fake = start(vec![]).await;
    let ncco = json!([{"action": "talk", "text": "bye"}]);
    let h = Handoff::new(HandoffConfig {
        transfer_ncco: Some(ncco.clone()),
        ..vonage_cfg(fake.url(""))
    });
    h.handoff(&call(Transport::Vonage), &handoff_status(None), &json!({}))
        .await
        .unwrap();
    let r = fake.next().await;
    assert_eq!(r.json()["destination"]["ncco"], ncco);
    // The agent's transfer number (telephonyTransferCall) wins over the configured NCCO.
    h.handoff(
        &call(Transport::Vonage),
        &handoff_status(Some("+1555")),
        &json!({}),
    )
    .await
    .unwrap();
    let r = fake.next().await;
    assert_eq!(
        r.json()["destination"]["ncco"][1]["endpoint"][0]["number"],
        "+1555"
    );

    let h = Handoff::new(HandoffConfig {
        transfer_text: None,
        transfer_from: None,
        ..vonage_cfg(fake.url(""))
    });
    h.handoff(&call(Transport::Vonage), &handoff_status(None), &json!({}))
        .await
        .unwrap();
    let r = fake.next().await;
    assert_eq!(
        r.json()["destination"]["ncco"],
        json!([{"action": "connect", "endpoint": [{"type": "phone", "number": "15550000000"}]}])
    );
}

#[tokio::test]
async fn vonage_without_destination_or_with_bad_key() {
    let mut fake = start(vec![]).await;
    let h = Handoff::new(HandoffConfig {
        transfer_number: None,
        ..vonage_cfg(fake.url(""))
    });
    let e = h
        .handoff(&call(Transport::Vonage), &handoff_status(None), &json!({}))
        .await;
    assert_eq!(e, Err(HandoffError::NoDestination));
    let h = Handoff::new(HandoffConfig {
        vonage: Some(("app-123".into(), "not a key".into())),
        ..vonage_cfg(fake.url(""))
    });
    let e = h
        .handoff(&call(Transport::Vonage), &handoff_status(None), &json!({}))
        .await;
    assert!(matches!(e, Err(HandoffError::Signing(_))), "{e:?}");
    fake.assert_idle();
}
