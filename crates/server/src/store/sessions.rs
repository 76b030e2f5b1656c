//! Sessions and turns: the SQL (shared by both backends) and the compare-and-swap write used on
//! PostgreSQL. The SQLite writer is in `sqlite_writer.rs`.

use super::backend::Fut;
use super::{from_ms, to_ms, StoreError, StoredSession, TurnRecord};
use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::oneshot;

/// Most commands run in one transaction.
pub const MAX_BATCH: usize = 1024;

/// A stored turn (timestamps in Unix milliseconds, JSON columns as text).
#[derive(Debug, Clone, PartialEq)]
pub struct TurnRow {
    pub id: i64,
    pub session_id: String,
    pub at: i64,
    pub query: Option<String>,
    pub event: Option<String>,
    pub intent: Option<String>,
    pub confidence: Option<f64>,
    pub parameters: Option<String>,
    pub reply: Option<String>,
    pub webhook_status: Option<String>,
    pub response: Option<String>,
}

/// Session row to upsert, state already serialised.
#[derive(Debug, Clone)]
pub(crate) struct SessionRow {
    pub id: String,
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
    pub version: i64,
}

impl SessionRow {
    pub fn new(id: &str, s: &StoredSession) -> Result<SessionRow, StoreError> {
        let state = serde_json::to_string(&s.state).map_err(|source| StoreError::Corrupt {
            what: "session state",
            source,
        })?;
        Ok(SessionRow {
            id: id.to_string(),
            state,
            created_at: to_ms(s.created_at),
            updated_at: to_ms(s.updated_at),
            expires_at: to_ms(s.expires_at),
            version: s.version,
        })
    }
}

pub(crate) enum Cmd {
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

pub(super) const UPSERT: &str = "INSERT INTO sessions(id, state, created_at, updated_at, expires_at, version)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT(id) DO UPDATE SET state = excluded.state, created_at = excluded.created_at,
     updated_at = excluded.updated_at, expires_at = excluded.expires_at, version = excluded.version";

/// PostgreSQL: the session upsert, applied only over the version the new state was computed from,
/// and the turn, inserted only if the session was written — one statement, so one round trip and
/// atomic without a transaction of its own.
const SAVE_IF_VERSION: &str = "WITH s AS (
       INSERT INTO sessions(id, state, created_at, updated_at, expires_at, version)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT(id) DO UPDATE SET state = excluded.state, created_at = excluded.created_at,
       updated_at = excluded.updated_at, expires_at = excluded.expires_at,
       version = excluded.version
       WHERE sessions.version = $7
       RETURNING id)
     INSERT INTO turns(session_id, at, query, event, intent, confidence, parameters, reply,
       webhook_status, response)
     SELECT $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 FROM s";

pub(super) const INSERT_TURN: &str =
    "INSERT INTO turns(session_id, at, query, event, intent, confidence,
     parameters, reply, webhook_status, response)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Writes the session and its turn (SQLite, one node: no version check).
pub(super) fn save<'a>(
    conn: &'a mut AnyConnection,
    s: &'a SessionRow,
    t: &'a TurnRecord,
) -> Fut<'a, Result<(), sqlx::Error>> {
    Box::pin(async move {
        sqlx::query(UPSERT)
            .bind(&s.id)
            .bind(&s.state)
            .bind(s.created_at)
            .bind(s.updated_at)
            .bind(s.expires_at)
            .bind(s.version)
            .execute(&mut *conn)
            .await?;
        bind_turn(sqlx::query(INSERT_TURN), t)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds a turn's ten columns, in `INSERT_TURN`'s order.
pub(super) fn bind_turn<'q>(q: AnyQuery<'q>, t: &'q TurnRecord) -> AnyQuery<'q> {
    q.bind(&t.session_id)
        .bind(to_ms(t.at))
        .bind(&t.query)
        .bind(&t.event)
        .bind(&t.intent)
        .bind(f64::from(t.confidence))
        .bind(&t.parameters)
        .bind(&t.reply)
        .bind(&t.webhook_status)
        .bind(&t.response)
}

/// One turn over the version it was computed from (PostgreSQL): [`StoreError::Conflict`], and
/// nothing written, when the row is no longer at `version - 1`.
pub(crate) async fn save_checked(
    pool: &AnyPool,
    s: &SessionRow,
    t: &TurnRecord,
) -> Result<(), StoreError> {
    let q = sqlx::query(SAVE_IF_VERSION)
        .bind(&s.id)
        .bind(&s.state)
        .bind(s.created_at)
        .bind(s.updated_at)
        .bind(s.expires_at)
        .bind(s.version)
        .bind(s.version - 1);
    let written = bind_turn(q, t).execute(pool).await?.rows_affected();
    if written == 0 {
        return Err(StoreError::Conflict(s.id.clone()));
    }
    Ok(())
}

pub(crate) fn load<'a>(
    conn: &'a mut AnyConnection,
    id: &'a str,
) -> Fut<'a, Result<Option<StoredSession>, StoreError>> {
    Box::pin(async move {
        let row = sqlx::query(
            "SELECT state, created_at, updated_at, expires_at, version FROM sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let state: String = row.try_get(0)?;
        stored(
            &state,
            [row.try_get(1)?, row.try_get(2)?, row.try_get(3)?],
            row.try_get(4)?,
        )
        .map(Some)
    })
}

/// A session from its columns: state as JSON text, times (created, updated, expires) in Unix ms.
fn stored(state: &str, times: [i64; 3], version: i64) -> Result<StoredSession, StoreError> {
    let state = serde_json::from_str(state).map_err(|source| StoreError::Corrupt {
        what: "session state",
        source,
    })?;
    Ok(StoredSession {
        state,
        created_at: from_ms(times[0]),
        updated_at: from_ms(times[1]),
        expires_at: from_ms(times[2]),
        version,
    })
}

impl SessionRow {
    /// The session this row stores.
    pub fn to_stored(&self) -> Result<StoredSession, StoreError> {
        stored(
            &self.state,
            [self.created_at, self.updated_at, self.expires_at],
            self.version,
        )
    }
}

pub(crate) fn sweep(conn: &mut AnyConnection, now: i64) -> Fut<'_, Result<usize, StoreError>> {
    Box::pin(async move {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(r.rows_affected() as usize)
    })
}

pub(crate) fn turns<'a>(
    conn: &'a mut AnyConnection,
    id: &'a str,
) -> Fut<'a, Result<Vec<TurnRow>, StoreError>> {
    Box::pin(async move {
        let rows = sqlx::query(
            "SELECT id, session_id, at, query, event, intent, confidence, parameters, reply,
                webhook_status, response
         FROM turns WHERE session_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TurnRow {
                    id: r.try_get(0)?,
                    session_id: r.try_get(1)?,
                    at: r.try_get(2)?,
                    query: r.try_get(3)?,
                    event: r.try_get(4)?,
                    intent: r.try_get(5)?,
                    confidence: r.try_get(6)?,
                    parameters: r.try_get(7)?,
                    reply: r.try_get(8)?,
                    webhook_status: r.try_get(9)?,
                    response: r.try_get(10)?,
                })
            })
            .collect()
    })
}
