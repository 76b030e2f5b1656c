//! Paused sessions (`TWILIO_ACTION: PAUSE`): kept for a TTL (30 minutes by default) under the
//! end-user id, so a later call with `resumeEndUserId` continues with its contexts intact — on
//! any node sharing the store (see [`crate::store`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::store::{Location, PausedRow, Store, StoreError};
use sb_nlu::dialog::SessionState;
use serde_json::Value;

/// How long a paused session can be resumed (Twilio keeps them 30 minutes).
pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, thiserror::Error)]
pub enum PausedError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("stored session is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T> = std::result::Result<T, PausedError>;

/// The paused-session store: a view of the server's [`Store`].
pub struct PausedSessions {
    store: Store,
    ttl_ms: i64,
}

/// `path/switchboard.db` when `path` is a directory (or, not existing yet, has no extension);
/// else `path` itself.
fn db_file(path: &Path) -> PathBuf {
    if path.is_dir() || (!path.exists() && path.extension().is_none()) {
        path.join(crate::store::DB_FILE)
    } else {
        path.to_path_buf()
    }
}

impl PausedSessions {
    /// Paused sessions in `store`, resumable for `ttl`.
    pub fn new(store: Store, ttl: Duration) -> Self {
        Self {
            store,
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Opens a store of its own: `db_path` is a data directory (meaning its `switchboard.db`) or a
    /// database file (a path with an extension); `None` keeps sessions in memory (lost on
    /// restart). Creates missing directories.
    pub async fn open(db_path: Option<&Path>, ttl: Duration) -> Result<Self> {
        let location = match db_path {
            Some(p) => Location::File(db_file(p)),
            None => Location::Memory,
        };
        let store = Store::open(&location, 16).await?;
        Ok(Self::new(store, ttl))
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
        let row = PausedRow {
            state: serde_json::to_string(state)?,
            transcript: transcript_json.to_string(),
            paused_at: now_ms,
            expires_at: now_ms.saturating_add(self.ttl_ms),
        };
        Ok(self.store.save_paused(end_user_id, &row).await?)
    }

    /// Removes and returns the paused session of `end_user_id`; `None` when there is none or it
    /// expired (at or after its expiry time).
    pub async fn take(
        &self,
        end_user_id: &str,
        now_ms: i64,
    ) -> Result<Option<(SessionState, Value)>> {
        match self.store.take_paused(end_user_id).await? {
            Some(row) if now_ms < row.expires_at => {
                let state: SessionState = serde_json::from_str(&row.state)?;
                let transcript: Value = serde_json::from_str(&row.transcript)?;
                Ok(Some((state, transcript)))
            }
            _ => Ok(None),
        }
    }

    /// Deletes expired sessions; returns how many.
    pub async fn sweep(&self, now_ms: i64) -> Result<usize> {
        Ok(self.store.sweep_paused(now_ms).await?)
    }
}
