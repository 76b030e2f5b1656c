//! Sessions and turns: the SQL (shared by both backends), the batching SQLite writer, and the
//! compare-and-swap write used on PostgreSQL.

use super::backend::{self, Fut, Kind};
use super::{from_ms, to_ms, StoreError, StoredSession, TurnRecord};
use sqlx::{AnyConnection, AnyPool, Row};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

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
    id: String,
    state: String,
    created_at: i64,
    updated_at: i64,
    expires_at: i64,
    version: i64,
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

const UPSERT: &str = "INSERT INTO sessions(id, state, created_at, updated_at, expires_at, version)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT(id) DO UPDATE SET state = excluded.state, created_at = excluded.created_at,
     updated_at = excluded.updated_at, expires_at = excluded.expires_at, version = excluded.version";

/// [`UPSERT`], applied only over the version the new state was computed from.
const UPSERT_IF_VERSION: &str =
    "INSERT INTO sessions(id, state, created_at, updated_at, expires_at, version)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT(id) DO UPDATE SET state = excluded.state, created_at = excluded.created_at,
     updated_at = excluded.updated_at, expires_at = excluded.expires_at, version = excluded.version
     WHERE sessions.version = $7";

const INSERT_TURN: &str = "INSERT INTO turns(session_id, at, query, event, intent, confidence,
     parameters, reply, webhook_status, response)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Writes the session and its turn; with `checked`, only over `version - 1` (returns false, and
/// writes nothing, otherwise).
fn save<'a>(
    conn: &'a mut AnyConnection,
    s: &'a SessionRow,
    t: &'a TurnRecord,
    checked: bool,
) -> Fut<'a, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        let q = sqlx::query(if checked { UPSERT_IF_VERSION } else { UPSERT })
            .bind(&s.id)
            .bind(&s.state)
            .bind(s.created_at)
            .bind(s.updated_at)
            .bind(s.expires_at)
            .bind(s.version);
        let q = if checked { q.bind(s.version - 1) } else { q };
        if q.execute(&mut *conn).await?.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(INSERT_TURN)
            .bind(&t.session_id)
            .bind(to_ms(t.at))
            .bind(&t.query)
            .bind(&t.event)
            .bind(&t.intent)
            .bind(f64::from(t.confidence))
            .bind(&t.parameters)
            .bind(&t.reply)
            .bind(&t.webhook_status)
            .bind(&t.response)
            .execute(&mut *conn)
            .await?;
        Ok(true)
    })
}

/// One turn in its own transaction, over the version it was computed from (PostgreSQL).
pub(crate) async fn save_checked(
    pool: &AnyPool,
    s: &SessionRow,
    t: &TurnRecord,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    if !save(&mut tx, s, t, true).await? {
        tx.rollback().await?;
        return Err(StoreError::Conflict(s.id.clone()));
    }
    tx.commit().await?;
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
        let state = serde_json::from_str(&state).map_err(|source| StoreError::Corrupt {
            what: "session state",
            source,
        })?;
        Ok(Some(StoredSession {
            state,
            created_at: from_ms(row.try_get(1)?),
            updated_at: from_ms(row.try_get(2)?),
            expires_at: from_ms(row.try_get(3)?),
            version: row.try_get(4)?,
        }))
    })
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

/// The SQLite writer: runs until [`Cmd::Close`] or until every sender is gone.
pub(crate) async fn run(pool: AnyPool, mut rx: mpsc::Receiver<Cmd>) {
    let mut batch = Vec::with_capacity(64);
    loop {
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break;
        }
        if run_batch(&pool, &mut batch).await {
            // Commands that raced with Close are dropped; their callers get `StoreError::Closed`.
            rx.close();
            break;
        }
    }
}

/// Runs `batch` in one transaction; replies to flushes once it is committed. True on Close.
async fn run_batch(pool: &AnyPool, batch: &mut Vec<Cmd>) -> bool {
    let mut after: Vec<oneshot::Sender<()>> = Vec::new();
    let mut closing = false;
    let conn = backend::acquire_write(pool, Kind::Sqlite).await;
    match conn {
        Ok(mut conn) => {
            for cmd in batch.drain(..) {
                match cmd {
                    Cmd::Flush { reply } => after.push(reply),
                    Cmd::Close { reply } => {
                        after.push(reply);
                        closing = true;
                    }
                    other => handle(&mut conn, other).await,
                }
            }
            match backend::commit(&mut conn).await {
                Ok(()) => {}
                Err(e) => {
                    tracing::error!(error = %e, "store: commit failed; the batch is lost");
                    backend::rollback(conn).await;
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "store: cannot begin a transaction; the batch is lost");
            let e = Arc::new(e);
            for cmd in batch.drain(..) {
                let err = || StoreError::Batch(e.clone());
                match cmd {
                    Cmd::Flush { reply } => after.push(reply),
                    Cmd::Close { reply } => {
                        after.push(reply);
                        closing = true;
                    }
                    Cmd::Load { reply, .. } => {
                        let _ = reply.send(Err(err()));
                    }
                    Cmd::Sweep { reply, .. } => {
                        let _ = reply.send(Err(err()));
                    }
                    Cmd::Turns { reply, .. } => {
                        let _ = reply.send(Err(err()));
                    }
                    Cmd::SaveTurn(_) => {}
                }
            }
        }
    }
    for r in after {
        let _ = r.send(());
    }
    closing
}

async fn handle(conn: &mut AnyConnection, cmd: Cmd) {
    match cmd {
        Cmd::Load { id, reply } => {
            let _ = reply.send(load(conn, &id).await);
        }
        Cmd::SaveTurn(b) => {
            if let Err(e) = save(conn, &b.0, &b.1, false).await {
                tracing::error!(error = %e, "store: saving a turn failed");
            }
        }
        Cmd::Sweep { now, reply } => {
            let _ = reply.send(sweep(conn, now).await);
        }
        Cmd::Turns { id, reply } => {
            let _ = reply.send(turns(conn, &id).await);
        }
        Cmd::Flush { .. } | Cmd::Close { .. } => {}
    }
}
