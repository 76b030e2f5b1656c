//! Phone routes with fake speech engines: exact TwiML and NCCO bodies, Twilio signatures,
//! `/v1/calls`, `/metrics`.

mod phone_support;

use phone_support::PhoneServer;
use sb_transport::twilio_signature;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twiml_connects_a_stream_with_parameters() {
    let s = PhoneServer::fake("").await;
    let r = s
        .http
        .get(format!("{}/twilio/twiml?foo=bar&connector=default", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/xml");
    let expected = format!(
        "<Response><Connect action=\"https://{0}/twilio/action?connector=default\" method=\"POST\"><Stream url=\"wss://{0}/twilio/media\"><Parameter name=\"connector\" value=\"default\"/><Parameter name=\"actionHop\" value=\"1\"/><Parameter name=\"foo\" value=\"bar\"/></Stream></Connect></Response>",
        s.host
    );
    assert_eq!(r.text().await.unwrap(), expected);

    // Behind a proxy: the forwarded host and scheme.
    let r = s
        .http
        .post(format!("{}/twilio/twiml", s.base))
        .header("x-forwarded-proto", "http")
        .header("x-forwarded-host", "bot.example.com")
        .form(&[("CallSid", "CA1")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        "<Response><Connect action=\"http://bot.example.com/twilio/action?connector=default\" method=\"POST\"><Stream url=\"ws://bot.example.com/twilio/media\"><Parameter name=\"connector\" value=\"default\"/><Parameter name=\"actionHop\" value=\"1\"/></Stream></Connect></Response>"
    );

    let r = s
        .http
        .get(format!("{}/twilio/twiml?connector=nope", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twiml_checks_the_twilio_signature() {
    let s = PhoneServer::fake(
        "[connectors.sales.twilio]\naccount_sid = \"ACx\"\nauth_token = \"s3cret\"\n",
    )
    .await;
    let url = format!("{}/twilio/twiml?connector=sales", s.base);
    let form = [("CallSid", "CA123"), ("From", "+15550001")];
    let r = s.http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403, "no signature");
    let public = format!("https://{}/twilio/twiml?connector=sales", s.host);
    let good = twilio_signature("s3cret", &public, &form);
    let bad = twilio_signature("wrong", &public, &form);
    let r = s
        .http
        .post(&url)
        .header("x-twilio-signature", bad)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "wrong key");
    let r = s
        .http
        .post(&url)
        .header("x-twilio-signature", &good)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<Parameter name=\"connector\" value=\"sales\"/>"));
    // A tampered parameter breaks the signature.
    let r = s
        .http
        .post(&url)
        .header("x-twilio-signature", &good)
        .form(&[("CallSid", "CA124"), ("From", "+15550001")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vonage_answer_returns_the_ncco() {
    let s = PhoneServer::fake("").await;
    let r = s
        .http
        .get(format!(
            "{}/vonage/answer?uuid=63f61863-4a51&conversation_uuid=CON-1&from=447700900000&to=447700900001",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let h = &s.host;
    assert_eq!(
        v,
        json!([
            {"action": "talk", "text": "Connecting your call, please wait."},
            {"action": "connect", "eventUrl": [format!("https://{h}/vonage/event")],
             "endpoint": [{"type": "websocket", "uri": format!("wss://{h}/vonage/media"),
                           "content-type": "audio/l16;rate=16000",
                           "headers": {"uuid": "63f61863-4a51", "connector": "default",
                                       "from": "447700900000", "to": "447700900001"}}]}
        ])
    );
    let r = s
        .http
        .post(format!("{}/vonage/event", s.base))
        .json(&json!({"status": "answered", "uuid": "63f61863-4a51"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_and_metrics_endpoints() {
    let s = PhoneServer::fake("").await;
    let (status, v) = s.get_json("/v1/calls").await;
    assert_eq!(status, 200);
    assert_eq!(v, json!({"calls": []}));
    let (status, v) = s.get_json("/v1/calls/CAnope").await;
    assert_eq!(status, 404);
    assert_eq!(v["error"]["message"], "call `CAnope` not found");
    let text = s.metrics().await;
    for needle in [
        "# TYPE switchboard_turn_reply_latency_seconds histogram",
        "switchboard_turn_endpointing_seconds_bucket{le=\"+Inf\"} 0",
        "switchboard_turn_asr_seconds_count 0",
        "switchboard_turn_nlu_webhook_seconds_count 0",
        "switchboard_turn_tts_first_audio_seconds_count 0",
        "switchboard_calls_active{transport=\"twilio\"} 0",
        "switchboard_queue_dropped_total{queue=\"asr\"} 0",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    s.stop().await;
}
