//! Paused sessions: TTL, one-shot take, sweep, and surviving a restart.

use std::path::PathBuf;
use std::time::Duration;

use sb_nlu::dialog::SessionState;
use serde_json::json;
use switchboard::phone::paused::{PausedSessions, DEFAULT_TTL};
use switchboard::store::Location;

const MIN: i64 = 60_000;

fn state() -> SessionState {
    let mut s: SessionState = serde_json::from_value(json!({
        "session_params": {"member_id": "m-7"},
        "turns": 4
    }))
    .unwrap();
    s.turns = 4;
    s
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!("sb-paused-{}", uuid::Uuid::new_v4()));
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn take_once_within_ttl() {
    let p = PausedSessions::open(None, DEFAULT_TTL).await.unwrap();
    let transcript = json!([{"caller": "hi", "bot": "hello"}]);
    p.save("user-1", &state(), &transcript, 1_000)
        .await
        .unwrap();
    let (s, t) = p.take("user-1", 1_000 + 29 * MIN).await.unwrap().unwrap();
    assert_eq!(s, state());
    assert_eq!(t, transcript);
    assert_eq!(p.take("user-1", 1_000 + 29 * MIN).await.unwrap(), None);
    assert_eq!(p.take("nobody", 0).await.unwrap(), None);
}

#[tokio::test]
async fn expired_sessions_are_gone_and_swept() {
    let p = PausedSessions::open(None, Duration::from_secs(30 * 60))
        .await
        .unwrap();
    p.save("a", &state(), &json!([]), 0).await.unwrap();
    assert_eq!(p.take("a", 30 * MIN).await.unwrap(), None);
    p.save("b", &state(), &json!([]), 0).await.unwrap();
    p.save("c", &state(), &json!([]), 10 * MIN).await.unwrap();
    // Saving again replaces (and restarts the TTL).
    p.save("d", &state(), &json!([]), 0).await.unwrap();
    p.save("d", &state(), &json!(["again"]), 20 * MIN)
        .await
        .unwrap();
    assert_eq!(p.sweep(31 * MIN).await.unwrap(), 1);
    assert!(p.take("c", 31 * MIN).await.unwrap().is_some());
    let (_, t) = p.take("d", 31 * MIN).await.unwrap().unwrap();
    assert_eq!(t, json!(["again"]));
}

#[tokio::test]
async fn survives_a_restart_in_the_data_dir() {
    let dir = TempDir::new();
    {
        let p = PausedSessions::open(Some(&dir.0), DEFAULT_TTL)
            .await
            .unwrap();
        p.save("user-9", &state(), &json!({"turns": 3}), 5_000)
            .await
            .unwrap();
    }
    assert!(dir.0.join("switchboard.db").is_file());
    let p = PausedSessions::open(Some(&dir.0), DEFAULT_TTL)
        .await
        .unwrap();
    let (s, t) = p.take("user-9", 6_000).await.unwrap().unwrap();
    assert_eq!(s, state());
    assert_eq!(t, json!({"turns": 3}));
}

#[tokio::test]
async fn shares_the_server_database_file() {
    let dir = TempDir::new();
    let store = switchboard::store::Store::open(&Location::Dir(dir.0.clone()), 16)
        .await
        .unwrap();
    let file = dir.0.join("switchboard.db");
    let p = PausedSessions::open(Some(&file), DEFAULT_TTL)
        .await
        .unwrap();
    p.save("u", &state(), &json!([]), 0).await.unwrap();
    assert!(p.take("u", 1).await.unwrap().is_some());
    store.close().await;
}
