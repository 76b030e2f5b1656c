//! Persistence of sessions and turns in SQLite (`<data-dir>/switchboard.db`).
//!
//! All SQLite work happens on one dedicated thread that owns the connection; the async side talks to it
//! over a bounded channel. The writer drains whatever is queued (up to [`db::MAX_BATCH`] commands) and
//! runs it in one transaction, so the request path never waits on an fsync.
//!
//! Durability trade-off: a turn is acknowledged to the client once it is *queued*, not committed. WAL
//! with `synchronous=NORMAL` means a committed batch survives a process crash; a power loss can lose
//! the last committed batches, and a process crash loses turns still in the queue (at most the queue
//! capacity). Graceful shutdown flushes everything. When the queue is full, requests wait
//! (back-pressure) rather than drop state.
//!
//! Reads go through the same thread, in order with the writes, so a read always sees every write queued
//! before it (needed because the in-memory session cache may evict a session whose write is queued).

mod db;

use chrono::{DateTime, TimeZone, Utc};
use sb_nlu::dialog::SessionState;
use std::path::Path;
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

pub use db::TurnRow;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("stored session state is not valid JSON: {0}")]
    Corrupt(String),
    #[error("store is closed")]
    Closed,
}

/// A session as persisted.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub state: SessionState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// One turn for the `turns` table; JSON columns are serialised by the caller (off the DB thread).
#[derive(Debug, Clone, PartialEq)]
pub struct TurnRecord {
    pub session_id: String,
    pub at: DateTime<Utc>,
    pub query: Option<String>,
    pub event: Option<String>,
    pub intent: Option<String>,
    pub confidence: f32,
    pub parameters: String,
    pub reply: String,
    pub webhook_status: Option<String>,
    pub response: String,
}

/// Session row to upsert, state already serialised.
#[derive(Debug, Clone)]
pub(crate) struct SessionRow {
    pub id: String,
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
}

pub(crate) enum Cmd {
    Load {
        id: String,
        reply: oneshot::Sender<Result<Option<StoredSession>, StoreError>>,
    },
    SaveTurn(Box<(SessionRow, TurnRecord)>),
    Sweep {
        now: i64,
        reply: oneshot::Sender<Result<usize, StoreError>>,
    },
    Turns {
        id: String,
        reply: oneshot::Sender<Result<Vec<TurnRow>, StoreError>>,
    },
    Flush {
        reply: oneshot::Sender<()>,
    },
    Close {
        reply: oneshot::Sender<()>,
    },
}

/// Handle to the storage thread. Cheap to share by reference (`AppState` owns one).
pub struct Store {
    tx: mpsc::Sender<Cmd>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Store {
    /// Opens `<dir>/switchboard.db` (creating the directory), or an in-memory database when `dir` is
    /// `None`. `queue` bounds the number of commands waiting for the writer.
    pub fn open(dir: Option<&Path>, queue: usize) -> Result<Store, StoreError> {
        let conn = match dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|source| StoreError::DataDir {
                    path: d.display().to_string(),
                    source,
                })?;
                let path = d.join("switchboard.db");
                rusqlite::Connection::open(&path).map_err(|source| StoreError::Open {
                    path: path.display().to_string(),
                    source,
                })?
            }
            None => rusqlite::Connection::open_in_memory().map_err(|source| StoreError::Open {
                path: ":memory:".into(),
                source,
            })?,
        };
        db::init(&conn)?;
        let (tx, rx) = mpsc::channel(queue.max(1));
        let thread = std::thread::Builder::new()
            .name("sb-store".into())
            .spawn(move || db::run(conn, rx))
            .map_err(|e| StoreError::Corrupt(format!("cannot start storage thread: {e}")))?;
        Ok(Store {
            tx,
            thread: Mutex::new(Some(thread)),
        })
    }

    async fn request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Cmd,
    ) -> Result<T, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)
    }

    /// The stored session, if any (expired or not: the caller decides).
    pub async fn load(&self, id: &str) -> Result<Option<StoredSession>, StoreError> {
        self.request(|reply| Cmd::Load {
            id: id.to_string(),
            reply,
        })
        .await?
    }

    /// Queues the session's new state and the turn record. Returns once queued (see module docs).
    pub async fn save_turn(
        &self,
        session: &StoredSession,
        id: &str,
        turn: TurnRecord,
    ) -> Result<(), StoreError> {
        let state = serde_json::to_string(&session.state)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let row = SessionRow {
            id: id.to_string(),
            state,
            created_at: to_ms(session.created_at),
            updated_at: to_ms(session.updated_at),
            expires_at: to_ms(session.expires_at),
        };
        self.tx
            .send(Cmd::SaveTurn(Box::new((row, turn))))
            .await
            .map_err(|_| StoreError::Closed)
    }

    /// Deletes sessions whose `expires_at` is at or before `now`; returns how many.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        self.request(|reply| Cmd::Sweep {
            now: to_ms(now),
            reply,
        })
        .await?
    }

    /// The turns recorded for a session, oldest first.
    pub async fn turns(&self, id: &str) -> Result<Vec<TurnRow>, StoreError> {
        self.request(|reply| Cmd::Turns {
            id: id.to_string(),
            reply,
        })
        .await?
    }

    /// Waits until everything queued before this call is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.request(|reply| Cmd::Flush { reply }).await
    }

    /// Commits everything queued, stops the storage thread and waits for it. Idempotent.
    pub async fn close(&self) {
        let _ = self.request(|reply| Cmd::Close { reply }).await;
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

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

    #[tokio::test]
    async fn save_load_sweep_close() {
        let store = Store::open(None, 4).expect("open");
        let t0 = from_ms(1_700_000_000_000);
        let state = SessionState {
            turns: 7,
            ..Default::default()
        };
        let s = StoredSession {
            state,
            created_at: t0,
            updated_at: t0,
            expires_at: t0 + Duration::minutes(30),
        };
        // More writes than the queue holds: back-pressure, nothing lost.
        for i in 0..20 {
            store
                .save_turn(&s, "a", turn("a", t0, &format!("q{i}")))
                .await
                .expect("save");
        }
        assert_eq!(store.load("a").await.expect("load"), Some(s.clone()));
        assert_eq!(store.load("b").await.expect("load"), None);
        let turns = store.turns("a").await.expect("turns");
        assert_eq!(turns.len(), 20);
        assert_eq!(turns[19].query.as_deref(), Some("q19"));
        assert_eq!(turns[0].at, 1_700_000_000_000);
        assert_eq!(
            store
                .sweep(t0 + Duration::minutes(29))
                .await
                .expect("sweep"),
            0
        );
        assert_eq!(
            store
                .sweep(t0 + Duration::minutes(30))
                .await
                .expect("sweep"),
            1
        );
        assert_eq!(store.load("a").await.expect("load"), None);
        store.close().await;
        assert!(matches!(store.load("a").await, Err(StoreError::Closed)));
        store.close().await; // idempotent
    }

    #[test]
    fn unwritable_data_dir_is_an_error() {
        let r = Store::open(Some(Path::new("/proc/switchboard-cannot-create")), 4);
        assert!(matches!(
            r,
            Err(StoreError::DataDir { .. }) | Err(StoreError::Open { .. })
        ));
    }
}
