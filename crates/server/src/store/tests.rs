//! The store on every backend: an in-memory SQLite, a SQLite file, and a real PostgreSQL (a schema
//! of its own per test; see `scripts/start-postgres.sh`).

use super::*;
use chrono::Duration;
use std::path::Path;

/// Runs `f` on each backend. PostgreSQL is required (see [`testing::fresh_postgres`]).
async fn each_backend<F, Fut>(f: F)
where
    F: Fn(Store, &'static str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut locations = vec![
        ("sqlite-memory", Location::Memory),
        ("sqlite-file", Location::Dir(dir.path().to_path_buf())),
    ];
    if let Some(url) = testing::fresh_postgres().await {
        locations.push(("postgres", Location::Url(url)));
    }
    for (name, loc) in locations {
        let store = Store::open(&loc, 4)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        f(store.clone(), name).await;
        store.close().await;
    }
}

fn turn(id: &str, at: DateTime<Utc>, q: &str) -> TurnRecord {
    TurnRecord {
        session_id: id.into(),
        at,
        query: Some(q.into()),
        event: None,
        intent: Some("I".into()),
        confidence: 0.5,
        parameters: "{}".into(),
        reply: "r".into(),
        webhook_status: None,
        response: "{}".into(),
    }
}

fn session(t0: DateTime<Utc>, turns: u64, version: i64) -> StoredSession {
    StoredSession {
        state: SessionState {
            turns,
            ..Default::default()
        },
        created_at: t0,
        updated_at: t0,
        expires_at: t0 + Duration::minutes(30),
        version,
    }
}

#[tokio::test]
async fn sessions_and_turns_round_trip_expire_and_close() {
    each_backend(|store, name| async move {
        let t0 = from_ms(1_700_000_000_000);
        // More writes than the queue holds: back-pressure, nothing lost.
        for i in 0..20 {
            let s = session(t0, i, i as i64 + 1);
            store
                .save_turn(&s, "a", turn("a", t0, &format!("q{i}")))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let loaded = store.load("a").await.expect("load");
        assert_eq!(loaded, Some(session(t0, 19, 20)), "{name}");
        assert_eq!(store.load("b").await.expect("load"), None, "{name}");
        let turns = store.turns("a").await.expect("turns");
        assert_eq!(turns.len(), 20, "{name}");
        assert_eq!(turns[19].query.as_deref(), Some("q19"), "{name}");
        assert_eq!(turns[0].at, 1_700_000_000_000, "{name}");
        assert_eq!(turns[0].confidence, Some(0.5), "{name}");
        store.flush().await.expect("flush");
        assert_eq!(store.turn_count().await.expect("count"), 20, "{name}");
        let sweep = |m| store.sweep(t0 + Duration::minutes(m));
        assert_eq!(sweep(29).await.expect("sweep"), 0, "{name}");
        assert_eq!(sweep(30).await.expect("sweep"), 1, "{name}");
        assert_eq!(store.load("a").await.expect("load"), None, "{name}");
        store.close().await;
        assert!(
            matches!(store.load("a").await, Err(StoreError::Closed)),
            "{name}"
        );
        assert!(!store.record_call_start(start_row("x")), "{name}");
        store.close().await; // idempotent
    })
    .await;
}

/// Two nodes on one PostgreSQL: a write computed from a version another node has moved past is
/// refused, and nothing of it is written.
#[tokio::test]
async fn a_stale_write_from_another_node_is_refused() {
    let Some(url) = testing::fresh_postgres().await else {
        return;
    };
    let loc = Location::Url(url);
    let a = Store::open(&loc, 4).await.expect("node a");
    let b = Store::open(&loc, 4).await.expect("node b");
    assert!(a.shared() && b.shared());
    let t0 = from_ms(1_700_000_000_000);
    a.save_turn(&session(t0, 1, 1), "s", turn("s", t0, "one"))
        .await
        .expect("first write");
    // B read version 1 and writes version 2; A, still at 1, then also writes a version 2.
    let seen = b.load("s").await.expect("load").expect("row");
    assert_eq!(seen.version, 1);
    b.save_turn(&session(t0, 2, 2), "s", turn("s", t0, "two on b"))
        .await
        .expect("b writes");
    let stale = a
        .save_turn(&session(t0, 2, 2), "s", turn("s", t0, "two on a"))
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict(ref id)) if id == "s"),
        "{stale:?}"
    );
    // A new session that already exists elsewhere is a conflict too.
    let again = a
        .save_turn(&session(t0, 1, 1), "s", turn("s", t0, "new on a"))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let now = a.load("s").await.expect("load").expect("row");
    assert_eq!((now.version, now.state.turns), (2, 2));
    let queries: Vec<_> = a
        .turns("s")
        .await
        .expect("turns")
        .into_iter()
        .filter_map(|t| t.query)
        .collect();
    assert_eq!(queries, ["one", "two on b"]);
    a.close().await;
    b.close().await;
}

fn start_row(id: &str) -> CallStartRow {
    CallStartRow {
        id: id.into(),
        transport: "twilio".into(),
        connector: "default".into(),
        account_id: "AC1".into(),
        stream_id: format!("MZ{id}"),
        started_at: "2026-01-01T00:00:00.000Z".into(),
        params: r#"{"k":"v"}"#.into(),
    }
}

fn turn_row(id: &str, n: i64, interrupted: bool) -> CallTurnRow {
    CallTurnRow {
        call_id: id.into(),
        stream_id: format!("MZ{id}"),
        turn: n,
        at: format!("2026-01-01T00:00:0{n}.000Z"),
        input_kind: "speech".into(),
        caller_text: format!("caller {n}"),
        asr_confidence: Some(0.75),
        intent: (n > 0).then(|| "Book".to_string()),
        intent_confidence: 0.5,
        parameters: "{}".into(),
        bot_text: format!("bot {n}"),
        sentiment_score: (n == 1).then_some(-0.25),
        sentiment_magnitude: (n == 1).then_some(0.5),
        timings: r#"{"asrMs":10}"#.into(),
        interrupted,
    }
}

#[tokio::test]
async fn call_transcripts_round_trip() {
    each_backend(|store, name| async move {
        assert!(store.record_call_start(start_row("CA1")));
        assert!(store.record_call_start(start_row("CA2")));
        assert!(store.record_call_turn(turn_row("CA1", 0, false)));
        assert!(store.record_call_turn(turn_row("CA1", 1, true)));
        // The same turn again replaces it.
        let mut again = turn_row("CA1", 1, true);
        again.bot_text = "bot 1 again".into();
        assert!(store.record_call_turn(again));
        assert!(store.record_call_end(CallEndRow {
            call_id: "CA1".into(),
            ended_at: "2026-01-01T00:01:00.000Z".into(),
            status: "completed".into(),
            error: None,
            hangup: "caller".into(),
        }));
        let (call, turns) = store.get_call("CA1").await.expect("get").expect("stored");
        assert_eq!(call.status.as_deref(), Some("completed"), "{name}");
        assert_eq!(call.hangup.as_deref(), Some("caller"), "{name}");
        assert_eq!(call.params, r#"{"k":"v"}"#, "{name}");
        assert_eq!(turns.len(), 2, "{name}");
        assert_eq!(turns[0], turn_row("CA1", 0, false), "{name}");
        assert_eq!(turns[1].bot_text, "bot 1 again", "{name}");
        assert!(turns[1].interrupted, "{name}");
        assert_eq!(turns[1].sentiment_score, Some(-0.25), "{name}");
        let list = store.list_calls(10).await.expect("list");
        let ids: Vec<_> = list.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["CA1", "CA2"], "{name}");
        assert_eq!(store.list_calls(1).await.expect("list").len(), 1, "{name}");
        assert!(
            store.get_call("nope").await.expect("get").is_none(),
            "{name}"
        );
        // A restarted stream reopens the call.
        assert!(store.record_call_start(start_row("CA1")));
        let (call, _) = store.get_call("CA1").await.expect("get").expect("stored");
        assert_eq!(call.status, None, "{name}");
    })
    .await;
}

fn paused(at: i64, expires_at: i64) -> PausedRow {
    PausedRow {
        state: r#"{"turns":4}"#.into(),
        transcript: "[]".into(),
        paused_at: at,
        expires_at,
    }
}

#[tokio::test]
async fn paused_calls_are_taken_once_and_swept() {
    each_backend(|store, name| async move {
        store
            .save_paused("u1", &paused(0, 100))
            .await
            .expect("save");
        store
            .save_paused("u2", &paused(0, 100))
            .await
            .expect("save");
        store
            .save_paused("u2", &paused(50, 200))
            .await
            .expect("replace");
        store
            .save_paused("u3", &paused(0, 300))
            .await
            .expect("save");
        assert_eq!(
            store.take_paused("u1").await.expect("take"),
            Some(paused(0, 100)),
            "{name}"
        );
        assert_eq!(store.take_paused("u1").await.expect("take"), None, "{name}");
        assert_eq!(store.sweep_paused(200).await.expect("sweep"), 1, "{name}");
        assert_eq!(store.take_paused("u2").await.expect("take"), None, "{name}");
        // Two takes at once (two nodes resuming the same caller): exactly one gets it.
        let (a, b) = tokio::join!(store.take_paused("u3"), store.take_paused("u3"));
        let got = [a.expect("a"), b.expect("b")];
        assert_eq!(got.iter().filter(|r| r.is_some()).count(), 1, "{name}");
    })
    .await;
}

/// A database written by the stores of earlier versions (no migrations table, no `hangup` or
/// `version` column) opens with its rows, and is then at the current schema.
#[tokio::test]
async fn a_database_from_before_migrations_is_adopted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(DB_FILE);
    {
        use sqlx::{ConnectOptions, Connection};
        let mut old = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true)
            .connect()
            .await
            .expect("old db");
        sqlx::raw_sql(
            "CREATE TABLE sessions(id TEXT PRIMARY KEY, state TEXT NOT NULL,
               created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
             INSERT INTO sessions VALUES ('old', '{\"turns\":3}', 1, 2, 9000000000000);
             CREATE TABLE calls (id TEXT PRIMARY KEY, transport TEXT NOT NULL,
               connector TEXT NOT NULL, account_id TEXT NOT NULL, stream_id TEXT NOT NULL,
               started_at TEXT NOT NULL, ended_at TEXT, status TEXT, error TEXT,
               params TEXT NOT NULL);
             INSERT INTO calls VALUES ('CAold', 'twilio', 'default', 'AC1', 'MZ1',
               '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z', 'completed', NULL, '{}');",
        )
        .execute(&mut old)
        .await
        .expect("old schema");
        old.close().await.expect("close");
    }
    for pass in 0..2 {
        let store = Store::open(&Location::Dir(dir.path().to_path_buf()), 4)
            .await
            .expect("open");
        let s = store.load("old").await.expect("load").expect("kept");
        assert_eq!((s.state.turns, s.version), (3, 0));
        let (call, turns) = store.get_call("CAold").await.expect("get").expect("kept");
        // The first pass sees the old row as it was, the second what the first wrote.
        let hangup = (pass > 0).then(|| "no-input".to_string());
        assert_eq!(
            (call.status.as_deref(), call.hangup),
            (Some("completed"), hangup)
        );
        assert!(turns.is_empty());
        assert!(store.record_call_end(CallEndRow {
            call_id: "CAold".into(),
            ended_at: "2026-01-01T00:02:00.000Z".into(),
            status: "completed".into(),
            error: None,
            hangup: "no-input".into(),
        }));
        let (call, _) = store.get_call("CAold").await.expect("get").expect("kept");
        assert_eq!(call.hangup.as_deref(), Some("no-input"));
        store.close().await;
    }
}

#[tokio::test]
async fn unwritable_data_dir_and_bad_urls_are_errors() {
    let r = Store::open(
        &Location::Dir(Path::new("/proc/switchboard-cannot-create").into()),
        4,
    )
    .await;
    assert!(
        matches!(r, Err(StoreError::DataDir { .. })),
        "{:?}",
        r.err()
    );
    // Nothing listens on port 1; the error names the server but not the password.
    let url = StoreUrl::parse("postgres://sb:s3cret@127.0.0.1:1/x").expect("url");
    let e = Store::open(&Location::Url(url), 4)
        .await
        .err()
        .expect("refused");
    let text = e.to_string();
    assert!(matches!(e, StoreError::Open { .. }), "{text}");
    assert!(
        text.contains("127.0.0.1:1") && !text.contains("s3cret"),
        "{text}"
    );
}

/// The web chat's conversations and the console's users, as the in-memory store keeps them.
#[tokio::test]
async fn conversations_and_console_users_round_trip() {
    each_backend(|store, name| async move {
        tracing::info!(backend = name, "conversations");
        crate::web::store::tests::conversations_round_trip(&store).await;
        crate::web::store::tests::users_round_trip(&store).await;
    })
    .await;
}
