//! Paused calls (`paused_sessions`): the session of a call that ended with `TWILIO_ACTION: PAUSE`,
//! kept under its end-user id until a later call resumes it or it expires. Written and read
//! directly (not through a writer queue): a pause must be committed before the next call, possibly
//! on another node, asks for it.

use super::{Store, StoreError};
use sqlx::Row;

/// A paused session as stored: JSON text and Unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct PausedRow {
    pub state: String,
    pub transcript: String,
    pub paused_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Stores (or replaces) the paused session of `end_user_id`.
    pub async fn save_paused(&self, end_user_id: &str, row: &PausedRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO paused_sessions(end_user_id, state, transcript, paused_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT(end_user_id) DO UPDATE SET state = excluded.state,
             transcript = excluded.transcript, paused_at = excluded.paused_at,
             expires_at = excluded.expires_at",
        )
        .bind(end_user_id)
        .bind(&row.state)
        .bind(&row.transcript)
        .bind(row.paused_at)
        .bind(row.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes and returns the paused session of `end_user_id` (expired or not: the caller
    /// decides). One statement, so of two concurrent takes exactly one gets the row.
    pub async fn take_paused(&self, end_user_id: &str) -> Result<Option<PausedRow>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM paused_sessions WHERE end_user_id = $1
             RETURNING state, transcript, paused_at, expires_at",
        )
        .bind(end_user_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        Ok(Some(PausedRow {
            state: r.try_get(0)?,
            transcript: r.try_get(1)?,
            paused_at: r.try_get(2)?,
            expires_at: r.try_get(3)?,
        }))
    }

    /// Deletes paused sessions that expired at or before `now_ms`; returns how many.
    pub async fn sweep_paused(&self, now_ms: i64) -> Result<usize, StoreError> {
        let r = sqlx::query("DELETE FROM paused_sessions WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() as usize)
    }
}
