//! The detectIntent HTTP API against a real server on 127.0.0.1:0.

mod common;
#[path = "fulfillment/support.rs"]
mod support;

use common::*;
use serde_json::{json, Value};

const HOURS: &str = "We are open every weekday from 9am to 5:30pm";
const WELCOME: &str = "Hi, welcome to Hogarth's bike shop.  How can I help you?";

fn err(v: &Value) -> (i64, &str, &str) {
    (
        v["error"]["code"].as_i64().unwrap_or(0),
        v["error"]["status"].as_str().unwrap_or(""),
        v["error"]["message"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn healthz_and_not_found() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let s = TestServer::simple(engine(&agent, None)).await;
    let r = s
        .client
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.expect("text"), "ok");

    let (status, v) = s.post_raw(&format!("{}/v2/nothing", s.base), "{}").await;
    assert_eq!(status, 404);
    assert_eq!(err(&v).0, 404);
    assert_eq!(err(&v).1, "NOT_FOUND");

    let (status, v) = s
        .post_raw(
            &format!(
                "{}/v2/projects/p/agent/sessions/abc:streamingDetectIntent",
                s.base
            ),
            "{}",
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(err(&v).1, "NOT_FOUND");
    s.stop().await;
}

#[tokio::test]
async fn text_query_returns_df_shaped_response() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let s = TestServer::simple(engine(&agent, None)).await;
    let (status, v) = s.text("s-1", "What are your hours?").await;
    assert_eq!(status, 200, "{v}");
    assert!(
        v["responseId"].as_str().is_some_and(|r| !r.is_empty()),
        "{v}"
    );
    let q = &v["queryResult"];
    assert_eq!(q["queryText"], "What are your hours?");
    assert_eq!(q["languageCode"], "en");
    assert_eq!(q["fulfillmentText"], HOURS);
    assert_eq!(q["intent"]["displayName"], "Hours");
    assert!(
        q["intent"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("projects/")),
        "{q}"
    );
    assert!(
        q["intentDetectionConfidence"]
            .as_f64()
            .is_some_and(|c| c > 0.5),
        "{q}"
    );
    assert_eq!(q["allRequiredParamsPresent"], true);
    assert_eq!(q["fulfillmentMessages"][0]["text"]["text"][0], HOURS);
    s.stop().await;
}

#[tokio::test]
async fn event_query_and_environment_path() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let s = TestServer::simple(engine(&agent, None)).await;
    let (status, v) = s.event("s-2", "WELCOME").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(intent_name(&v), "Welcome Intent");
    assert_eq!(fulfillment(&v), WELCOME);

    let url = format!(
        "{}/v2/projects/p1/agent/environments/draft/users/u1/sessions/s-3:detectIntent",
        s.base
    );
    let body = json!({"queryInput": {"event": {"name": "welcome", "languageCode": "en"}}, "unknownField": {"x": 1}});
    let (status, v) = s.post_raw(&url, body.to_string()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(intent_name(&v), "Welcome Intent");
    s.stop().await;
}

#[tokio::test]
async fn request_errors_are_google_style() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let s = TestServer::simple(engine(&agent, None)).await;
    let url = s.detect_url("s-err");

    let (status, v) = s.post_raw(&url, "{\"queryInput\":").await;
    assert_eq!(status, 400);
    assert_eq!(err(&v).0, 400);
    assert_eq!(err(&v).1, "INVALID_ARGUMENT");
    assert!(
        err(&v).2.starts_with("Invalid JSON payload received."),
        "{v}"
    );

    let (status, v) = s.post_raw(&url, "{\"queryParams\":{}}").await;
    assert_eq!(
        (status, err(&v)),
        (
            400,
            (400, "INVALID_ARGUMENT", "Field 'queryInput' is required.")
        )
    );

    let (status, v) = s
        .post_raw(
            &url,
            json!({"queryInput":{"text":{"text":"","languageCode":"en"}}}).to_string(),
        )
        .await;
    assert_eq!(
        (status, err(&v)),
        (400, (400, "INVALID_ARGUMENT", "Input text not set."))
    );

    let long = "a".repeat(257);
    let (status, v) = s
        .post_raw(
            &url,
            json!({"queryInput":{"text":{"text":long,"languageCode":"en"}}}).to_string(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        err(&v).2,
        "Input text exceeds the maximum length of 256 characters (got 257)."
    );

    let huge = format!(
        "{{\"queryInput\":{{\"text\":{{\"text\":\"hi\"}}}},\"pad\":\"{}\"}}",
        "x".repeat(70 * 1024)
    );
    let (status, v) = s.post_raw(&url, huge).await;
    assert_eq!(status, 413);
    assert_eq!(
        err(&v),
        (
            413,
            "INVALID_ARGUMENT",
            "Request payload size exceeds the limit: 65536 bytes."
        )
    );

    let ok_body = json!({"queryInput":{"text":{"text":"hi","languageCode":"en"}}}).to_string();
    let (status, v) = s.post_raw(&s.detect_url("bad%01id"), ok_body.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(err(&v).2, "The session id contains invalid characters.");

    let (status, v) = s
        .post_raw(&s.detect_url(&"x".repeat(513)), ok_body.clone())
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        err(&v).2,
        "The session id exceeds the maximum length of 512 characters."
    );

    // Long ids seen in the wild (47+ characters) are fine.
    let (status, v) = s.post_raw(&s.detect_url(&"v".repeat(200)), ok_body).await;
    assert_eq!(status, 200, "{v}");

    let r = s.client.get(&url).send().await.expect("get");
    assert_eq!(r.status().as_u16(), 405);
    s.stop().await;
}

#[tokio::test]
async fn concurrent_requests_on_one_session_are_serialised() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let s = TestServer::simple(engine(&agent, None)).await;
    let n = 40;
    let mut tasks = Vec::new();
    for _ in 0..n {
        let client = s.client.clone();
        let url = s.detect_url("shared");
        tasks.push(tokio::spawn(async move {
            let body =
                json!({"queryInput":{"text":{"text":"What are your hours?","languageCode":"en"}}});
            client
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("join").expect("request"), 200);
    }
    s.state.store.flush().await.expect("flush");
    let stored = s
        .state
        .store
        .load("projects/test-project/agent/sessions/shared")
        .await
        .expect("load");
    let stored = stored.expect("session stored");
    assert_eq!(
        stored.state.turns, n,
        "every turn counted once: no lost update"
    );
    let turns = s
        .state
        .store
        .turns("projects/test-project/agent/sessions/shared")
        .await
        .expect("turns");
    assert_eq!(turns.len() as u64, n);
    s.stop().await;
}

#[tokio::test]
async fn sentiment_is_analysed_when_requested() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let s = TestServer::simple(engine(&agent, None)).await;
    let url = s.detect_url("s-sent");
    let body = |text: &str, on: bool| {
        json!({"queryInput":{"text":{"text":text,"languageCode":"en"}},
               "queryParams":{"sentimentAnalysisRequestConfig":{"analyzeQueryTextSentiment":on}}})
        .to_string()
    };
    let (status, v) = s
        .post_raw(&url, body("I love your shop, it is great!", true))
        .await;
    assert_eq!(status, 200, "{v}");
    let qs = &v["queryResult"]["sentimentAnalysisResult"]["queryTextSentiment"];
    assert!(qs["score"].as_f64().is_some_and(|x| x > 0.5), "{v}");
    assert!(qs["magnitude"].as_f64().is_some_and(|x| x > 0.5), "{v}");

    let (_, v) = s
        .post_raw(
            &url,
            body("This is terrible, my bike is broken and I hate it", true),
        )
        .await;
    let qs = &v["queryResult"]["sentimentAnalysisResult"]["queryTextSentiment"];
    assert!(qs["score"].as_f64().is_some_and(|x| x < -0.3), "{v}");

    let (_, v) = s
        .post_raw(&url, body("I love your shop, it is great!", false))
        .await;
    assert!(
        v["queryResult"].get("sentimentAnalysisResult").is_none(),
        "not requested: {v}"
    );
    s.stop().await;
}

#[tokio::test]
async fn restaurant_booking_over_http_uses_the_request_time_zone() {
    use chrono::TimeZone;
    let Some(agent) = example_agent("restaurant") else {
        return;
    };
    let start = chrono::Utc
        .with_ymd_and_hms(2024, 5, 1, 10, 0, 0)
        .single()
        .expect("date");
    let clock = std::sync::Arc::new(switchboard::clock::ManualClock::new(start));
    let s = TestServer::start(
        engine(&agent, None),
        switchboard::config::ServerConfig::default(),
        clock,
    )
    .await;
    let url = s.detect_url("booking-1");
    let body = |text: &str| {
        json!({"queryInput":{"text":{"text":text,"languageCode":"en"}},"queryParams":{"timeZone":"Europe/Paris"}})
            .to_string()
    };
    let (status, v) = s
        .post_raw(&url, body("I'd like to book a table tomorrow at 7pm"))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(intent_name(&v), "Table Booker");
    assert_eq!(fulfillment(&v), "For whom should I book the table?");
    assert_eq!(v["queryResult"]["allRequiredParamsPresent"], false);

    let (status, v) = s.post_raw(&url, body("Tanya")).await;
    assert_eq!(status, 200, "{v}");
    let q = &v["queryResult"];
    assert_eq!(q["allRequiredParamsPresent"], true);
    assert_eq!(q["parameters"]["person"], json!({"name": "Tanya"}));
    assert_eq!(q["parameters"]["date"], "2024-05-02T12:00:00+02:00");
    assert_eq!(q["parameters"]["time"], "2024-05-02T19:00:00+02:00");
    assert_eq!(
        q["fulfillmentText"],
        "Table booked for Tanya at 2024-05-02T19:00:00+02:00 on 2024-05-02T12:00:00+02:00. Thank you!"
    );
    // The agent enables analyzeQueryTextSentiment: every text query carries a sentiment.
    assert!(
        q["sentimentAnalysisResult"]["queryTextSentiment"]["score"].is_number(),
        "{q}"
    );
    s.stop().await;
}

/// Google's Python client (`google-cloud-dialogflow`, REST transport, anonymous credentials)
/// pointed at the server: events, text with parameters and payload, contexts the server set and
/// contexts the client sent round-trip, and a refused request raises the client's own error.
#[tokio::test]
async fn google_python_client_round_trips_detect_intent() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let python = support::test_path("google_client/.venv/bin/python");
    if !python.is_file() {
        return support::missing("the google-cloud-dialogflow virtualenv is not installed")
            .unwrap_or(());
    }
    let s = TestServer::simple(engine(&agent, None)).await;
    let run = tokio::process::Command::new(&python)
        .arg(support::test_path("google_client/detect.py"))
        .arg(&s.base)
        .arg("py-1")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), run)
        .await
        .expect("detect.py finished in time")
        .expect("run detect.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "detect.py failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let turns: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(turns.len(), 5, "{stdout}");

    // The client parsed every response into its protos (rich messages included).
    let welcome = &turns[0]["queryResult"];
    assert_eq!(welcome["intent"]["displayName"], "Welcome Intent");
    assert_eq!(welcome["fulfillmentText"], WELCOME);
    assert_eq!(
        welcome["fulfillmentMessages"][0]["suggestions"]["suggestions"][0]["title"],
        "Hours"
    );
    assert_eq!(
        welcome["fulfillmentMessages"][0]["platform"],
        "ACTIONS_ON_GOOGLE"
    );

    let booking = &turns[1]["queryResult"];
    assert_eq!(booking["intent"]["displayName"], "Make Appointment");
    assert_eq!(
        booking["intent"]["name"],
        "projects/test-project/agent/intents/81dfa908-da80-43fc-8c70-e71299d1dcc2"
    );
    assert_eq!(booking["allRequiredParamsPresent"], true);
    let time = booking["parameters"]["time"].as_str().unwrap_or("");
    assert!(time.ends_with("T14:00:00-08:00"), "{booking}");
    let date = booking["parameters"]["date"].as_str().unwrap_or("");
    assert!(date.ends_with("T12:00:00-08:00"), "{booking}");
    assert!(
        booking["fulfillmentText"]
            .as_str()
            .is_some_and(|t| t.starts_with("Ok, let me see if we can fit you in.")),
        "{booking}"
    );
    let ctx = &booking["outputContexts"][0];
    assert_eq!(
        ctx["name"],
        "projects/test-project/agent/sessions/py-1/contexts/makeappointment-followup"
    );
    assert_eq!(ctx["lifespanCount"], 2);
    assert_eq!(ctx["parameters"]["time.original"], "at 2pm");

    // The follow-up intent matched through the context of the previous turn.
    let follow = &turns[2]["queryResult"];
    assert_eq!(
        follow["intent"]["displayName"], "Make Appointment - custom",
        "{follow}"
    );
    assert_eq!(follow["parameters"]["AppointmentType"], "fix");
    assert_eq!(follow["outputContexts"][0]["lifespanCount"], 1);

    // A context the client sent in queryParams.
    let sent = &turns[3]["queryResult"];
    assert_eq!(sent["intent"]["displayName"], "Make Appointment - custom");
    assert!(
        sent["fulfillmentText"]
            .as_str()
            .is_some_and(|t| t.contains("2030-01-02T15:00:00-08:00")),
        "{sent}"
    );

    // The REST transport asks for integer enums in the query string, which the server accepts.
    let err = &turns[4];
    assert_eq!(err["error"], "BadRequest", "{err}");
    assert_eq!(err["code"], 400);
    assert_eq!(
        err["grpc"], "INVALID_ARGUMENT",
        "status read from the error body"
    );
    let message = err["message"].as_str().unwrap_or("");
    assert!(
        message.contains("?%24alt=json%3Benum-encoding%3Dint"),
        "{message}"
    );
    assert!(message.ends_with(": Input text not set."), "{message}");
    s.stop().await;
}
