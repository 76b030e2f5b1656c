//! The store: sessions and their turns, call transcripts and paused calls, in one database with
//! versioned migrations — an embedded SQLite file (`<data-dir>/switchboard.db`, the default) or a
//! PostgreSQL database shared by several nodes (`store.url = "postgres://…"`).
//!
//! Sessions and turns, SQLite (one node): one writer task batches whatever is queued (up to
//! [`MAX_BATCH`] commands) into one transaction, turns queued together in one statement per
//! table, so the request path never waits on the disk.
//! Durability trade-off: a turn is acknowledged once it is *queued*, not committed. WAL with
//! `synchronous=NORMAL` means a committed batch survives a process crash; a power loss can lose the
//! last committed batches, and a process crash loses turns still in the queue (at most the queue
//! capacity). Graceful shutdown ([`Store::close`]) commits everything. When the queue is full,
//! requests wait (back-pressure) rather than drop state. A session is read from the writer's list
//! of queued, uncommitted rows first, then from the database (WAL: beside the writer, not behind
//! it), so a read sees every write queued before it even when the in-memory session cache evicted
//! the session.
//!
//! Sessions and turns, PostgreSQL (several nodes): every node may serve every session, so a turn
//! is acknowledged only once committed, and the caller reads the session through on every turn
//! ([`Store::shared`]). Each session row carries a version raised by every write; a write applies
//! only over the version it was computed from (compare-and-swap), so two nodes serving the same
//! session at once cannot silently lose a turn: the later one gets [`StoreError::Conflict`].
//!
//! Web chat conversations and console users (`console.rs`) are written and read directly.
//!
//! Call transcripts (both backends) are written by their own batching writer that never blocks the
//! call: a full queue drops the write (the caller counts it). Paused calls are read and written
//! directly: `take` is one `DELETE … RETURNING`, so of two nodes resuming the same paused call at
//! once exactly one gets it.
//!
//! No wall clock here: every time is the caller's (the server's injected [`crate::clock::Clock`]).

mod backend;
mod calls;
mod console;
mod paused;
mod sessions;
mod sqlite_writer;
#[doc(hidden)]
pub mod testing;

pub use backend::{redact, Kind, Location, StoreUrl, DB_FILE};
pub use calls::{CallEndRow, CallRow, CallStartRow, CallTurnRow, CALLS_QUEUE, MAX_LIST};
pub use paused::PausedRow;
pub use sessions::{TurnRow, MAX_BATCH};

use chrono::{DateTime, TimeZone, Utc};
use sb_nlu::dialog::SessionState;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid store URL `{url}`: {reason}")]
    Url { url: String, reason: &'static str },
    #[error("cannot open the store at {target}: {source}")]
    Open { target: String, source: sqlx::Error },
    #[error("cannot migrate the store at {target}: {source}")]
    Migrate {
        target: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("database error: {0}")]
    Sql(sqlx::Error),
    /// A batch failed as a whole (no connection, no transaction): every command in it gets this.
    #[error("database error: {0}")]
    Batch(Arc<sqlx::Error>),
    #[error("stored {what} is not valid JSON: {source}")]
    Corrupt {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("session {0} was changed by a concurrent request")]
    Conflict(String),
    #[error("the store is busy")]
    Busy,
    #[error("the store is closed")]
    Closed,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolClosed => StoreError::Closed,
            e => StoreError::Sql(e),
        }
    }
}

/// A session as persisted.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub state: SessionState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The row's version: raised by every write (0: never stored). [`Store::save_turn`] writes
    /// this version, on a shared store only over `version - 1`.
    pub version: i64,
}

/// One turn for the `turns` table; JSON columns are serialised by the caller.
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

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Handle to the store. Cheap to clone; every clone is the same store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: backend::Db,
    /// The SQLite sessions writer; `None` on PostgreSQL, where turns are written directly.
    sessions: Option<mpsc::Sender<sessions::Cmd>>,
    /// Sessions whose write the SQLite writer has not committed yet.
    queued: Arc<sqlite_writer::Queued>,
    calls: mpsc::Sender<calls::Cmd>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Store {
    /// Opens (creating if needed) the store at `location` and brings its schema up to date.
    /// `queue` bounds the session writes waiting for the SQLite writer. Call from a tokio runtime.
    pub async fn open(location: &Location, queue: usize) -> Result<Store, StoreError> {
        // Opening waits on the database's own threads (SQLite) or the network, under the pool's
        // timeout: a blocking task is where such waiting belongs, and while one runs a paused
        // tokio clock (the virtual-time tests) cannot jump ahead to that timeout.
        let rt = tokio::runtime::Handle::current();
        let loc = location.clone();
        let db = tokio::task::spawn_blocking(move || rt.block_on(backend::open(&loc)))
            .await
            .map_err(|_| StoreError::Closed)??;
        let mut tasks = Vec::new();
        let queued = Arc::new(sqlite_writer::Queued::default());
        let sessions = match db.kind {
            Kind::Sqlite => {
                let (tx, rx) = mpsc::channel(queue.max(1));
                tasks.push(tokio::spawn(sqlite_writer::run(
                    db.pool.clone(),
                    rx,
                    queued.clone(),
                )));
                Some(tx)
            }
            Kind::Postgres => None,
        };
        let (calls_tx, calls_rx) = mpsc::channel(CALLS_QUEUE);
        tasks.push(tokio::spawn(calls::run(db.pool.clone(), db.kind, calls_rx)));
        tracing::debug!(store = %location.describe(), "store open");
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                sessions,
                queued,
                calls: calls_tx,
                tasks: Mutex::new(tasks),
            }),
        })
    }

    /// Which database this is.
    pub fn kind(&self) -> Kind {
        self.inner.db.kind
    }

    /// True when other nodes may write the same sessions (PostgreSQL): read a session through on
    /// every turn instead of trusting a cached copy.
    pub fn shared(&self) -> bool {
        self.inner.db.kind == Kind::Postgres
    }

    fn pool(&self) -> &sqlx::AnyPool {
        &self.inner.db.pool
    }

    async fn request<C, T>(
        tx: &mpsc::Sender<C>,
        make: impl FnOnce(oneshot::Sender<T>) -> C,
    ) -> Result<T, StoreError> {
        let (reply, rx) = oneshot::channel();
        tx.send(make(reply)).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)
    }

    /// The stored session, if any (expired or not: the caller decides).
    pub async fn load(&self, id: &str) -> Result<Option<StoredSession>, StoreError> {
        // A write still queued is newer than the database; once it is committed it is gone from
        // here, and the database has it.
        if let Some(row) = self.inner.queued.get(id) {
            return row.to_stored().map(Some);
        }
        sessions::load(&mut *self.pool().acquire().await?, id).await
    }

    /// Persists the session's new state and the turn. SQLite: returns once queued (see the module
    /// docs). PostgreSQL: returns once committed, or [`StoreError::Conflict`] (nothing written)
    /// when the row is no longer at `session.version - 1`.
    pub async fn save_turn(
        &self,
        session: &StoredSession,
        id: &str,
        turn: TurnRecord,
    ) -> Result<(), StoreError> {
        let row = sessions::SessionRow::new(id, session)?;
        match &self.inner.sessions {
            Some(tx) => {
                self.inner.queued.put(&row);
                tx.send(sessions::Cmd::SaveTurn(Box::new((row, turn))))
                    .await
                    .map_err(|_| StoreError::Closed)
            }
            None => sessions::save_checked(self.pool(), &row, &turn).await,
        }
    }

    /// Deletes sessions whose `expires_at` is at or before `now`; returns how many.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let now = to_ms(now);
        match &self.inner.sessions {
            Some(tx) => Self::request(tx, |reply| sessions::Cmd::Sweep { now, reply }).await?,
            None => sessions::sweep(&mut *self.pool().acquire().await?, now).await,
        }
    }

    /// The turns recorded for a session, oldest first.
    pub async fn turns(&self, id: &str) -> Result<Vec<TurnRow>, StoreError> {
        match &self.inner.sessions {
            Some(tx) => {
                Self::request(tx, |reply| sessions::Cmd::Turns {
                    id: id.to_string(),
                    reply,
                })
                .await?
            }
            None => sessions::turns(&mut *self.pool().acquire().await?, id).await,
        }
    }

    /// How many turns are recorded, all sessions together (after a [`Store::flush`]).
    pub async fn turn_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM turns")
            .fetch_one(self.pool())
            .await?)
    }

    /// Waits until every write queued before this call is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        if let Some(tx) = &self.inner.sessions {
            Self::request(tx, |reply| sessions::Cmd::Flush { reply }).await?;
        }
        Self::request(&self.inner.calls, |reply| calls::Cmd::Flush { reply }).await
    }

    /// Commits everything queued, stops the writers and closes the database. Idempotent; every
    /// clone of this store is closed.
    pub async fn close(&self) {
        if let Some(tx) = &self.inner.sessions {
            let _ = Self::request(tx, |reply| sessions::Cmd::Close { reply }).await;
        }
        let _ = Self::request(&self.inner.calls, |reply| calls::Cmd::Close { reply }).await;
        let tasks =
            std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
        self.pool().close().await;
    }
}

#[cfg(test)]
mod tests;
