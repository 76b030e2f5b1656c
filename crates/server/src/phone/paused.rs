//! Paused sessions (`TWILIO_ACTION: PAUSE`): kept for a TTL (30 minutes by default) under the
//! end-user id, so a later call with `resumeEndUserId` continues with its contexts intact.
//!
//! Stored in SQLite, table `paused_sessions`, in the server's `switchboard.db` when a data
//! directory is set (a second connection: the database is in WAL mode), in memory otherwise.
//! Every statement runs on the blocking thread pool, never on an async worker thread.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use sb_nlu::dialog::SessionState;
use serde_json::Value;

/// How long a paused session can be resumed (Twilio keeps them 30 minutes).
pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 60);

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 5000;
CREATE TABLE IF NOT EXISTS paused_sessions(
    end_user_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    transcript TEXT NOT NULL,
    paused_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS paused_sessions_expires_at ON paused_sessions(expires_at);
";

#[derive(Debug, thiserror::Error)]
pub enum PausedError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("stored session is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("database task failed: {0}")]
    Task(String),
}

pub type Result<T> = std::result::Result<T, PausedError>;

/// The paused-session store. Cheap to share behind an `Arc`.
pub struct PausedSessions {
    conn: Arc<Mutex<Connection>>,
    ttl_ms: i64,
}

/// `path/switchboard.db` when `path` is a directory (or, not existing yet, has no extension);
/// else `path` itself.
fn db_file(path: &Path) -> PathBuf {
    if path.is_dir() || (!path.exists() && path.extension().is_none()) {
        path.join("switchboard.db")
    } else {
        path.to_path_buf()
    }
}

impl PausedSessions {
    /// Opens the store. `db_path` is the data directory (meaning its `switchboard.db`) or a
    /// database file (a path with an extension); `None` keeps sessions in memory (lost on
    /// restart). Creates missing directories.
    pub fn open(db_path: Option<&Path>, ttl: Duration) -> Result<Self> {
        let conn = match db_path {
            Some(p) => {
                let file = db_file(p);
                if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| PausedError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                Connection::open(&file)?
            }
            None => Connection::open_in_memory()?,
        };
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| PausedError::Task(e.to_string()))?
    }

    /// Stores (or replaces) the paused session of `end_user_id`, expiring `ttl` after `now_ms`
    /// (Unix milliseconds).
    pub async fn save(
        &self,
        end_user_id: &str,
        state: &SessionState,
        transcript_json: &Value,
        now_ms: i64,
    ) -> Result<()> {
        let id = end_user_id.to_owned();
        let state = serde_json::to_string(state)?;
        let transcript = transcript_json.to_string();
        let expires = now_ms.saturating_add(self.ttl_ms);
        self.with_conn(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO paused_sessions(end_user_id, state, transcript, paused_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, state, transcript, now_ms, expires],
            )?;
            Ok(())
        })
        .await
    }

    /// Removes and returns the paused session of `end_user_id`; `None` when there is none or it
    /// expired (at or after its expiry time).
    pub async fn take(
        &self,
        end_user_id: &str,
        now_ms: i64,
    ) -> Result<Option<(SessionState, Value)>> {
        let id = end_user_id.to_owned();
        let row = self
            .with_conn(move |c| {
                let tx = c.transaction()?;
                let row: Option<(String, String, i64)> = tx
                    .query_row(
                        "SELECT state, transcript, expires_at FROM paused_sessions WHERE end_user_id = ?1",
                        params![id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                if row.is_some() {
                    tx.execute(
                        "DELETE FROM paused_sessions WHERE end_user_id = ?1",
                        params![id],
                    )?;
                }
                tx.commit()?;
                Ok(row)
            })
            .await?;
        match row {
            Some((state, transcript, expires_at)) if now_ms < expires_at => {
                let state: SessionState = serde_json::from_str(&state)?;
                let transcript: Value = serde_json::from_str(&transcript)?;
                Ok(Some((state, transcript)))
            }
            _ => Ok(None),
        }
    }

    /// Deletes expired sessions; returns how many.
    pub async fn sweep(&self, now_ms: i64) -> Result<usize> {
        self.with_conn(move |c| {
            Ok(c.execute(
                "DELETE FROM paused_sessions WHERE expires_at <= ?1",
                params![now_ms],
            )?)
        })
        .await
    }
}
