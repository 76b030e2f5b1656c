//! A fake customer app (and platform REST API) on 127.0.0.1:0: every POST is reported as
//! (path without the leading `/`, body).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::Router;
use tokio::sync::mpsc;

type Seen = mpsc::Sender<(String, String)>;

async fn record(State(tx): State<Seen>, Path(rest): Path<String>, body: Bytes) -> &'static str {
    let _ = tx.try_send((rest, String::from_utf8_lossy(&body).into_owned()));
    "{}"
}

/// Starts the app; returns its base URL and the stream of requests it received.
pub async fn fake_app() -> (String, mpsc::Receiver<(String, String)>) {
    let (tx, rx) = mpsc::channel(256);
    let app = Router::new().route("/{*rest}", post(record)).with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, rx)
}

/// The fields of a form-encoded body, in order.
pub fn decode_form(body: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{body}"))
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The value of field `k` ("" when absent).
pub fn field<'a>(form: &'a [(String, String)], k: &str) -> &'a str {
    form.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}
