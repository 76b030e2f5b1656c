//! The storage thread: owns the SQLite connection, batches commands into transactions.

use super::{from_ms, Cmd, SessionRow, StoreError, StoredSession, TurnRecord};
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

/// Most commands run in one transaction.
pub const MAX_BATCH: usize = 1024;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 5000;
CREATE TABLE IF NOT EXISTS sessions(
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions(expires_at);
CREATE TABLE IF NOT EXISTS turns(
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    query TEXT,
    event TEXT,
    intent TEXT,
    confidence REAL,
    parameters TEXT,
    reply TEXT,
    webhook_status TEXT,
    response TEXT
);
CREATE INDEX IF NOT EXISTS turns_session ON turns(session_id, id);
";

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

pub(super) fn init(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

/// Replies that must wait for the batch's commit.
enum AfterCommit {
    Flush(oneshot::Sender<()>),
    Close(oneshot::Sender<()>),
}

pub(super) fn run(mut conn: Connection, mut rx: mpsc::Receiver<Cmd>) {
    let mut batch = Vec::with_capacity(64);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let mut after = Vec::new();
        let mut closing = false;
        match conn.transaction() {
            Ok(tx) => {
                for cmd in batch.drain(..) {
                    match cmd {
                        Cmd::Flush { reply } => after.push(AfterCommit::Flush(reply)),
                        Cmd::Close { reply } => {
                            after.push(AfterCommit::Close(reply));
                            closing = true;
                        }
                        other => handle(&tx, other),
                    }
                }
                if let Err(e) = tx.commit() {
                    tracing::error!(error = %e, "store: commit failed; the batch is lost");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "store: cannot begin transaction");
                for cmd in batch.drain(..) {
                    match cmd {
                        Cmd::Flush { reply } => after.push(AfterCommit::Flush(reply)),
                        Cmd::Close { reply } => {
                            after.push(AfterCommit::Close(reply));
                            closing = true;
                        }
                        // Dropping the other commands drops their reply senders: callers see `Closed`.
                        _ => {}
                    }
                }
            }
        }
        for a in after {
            match a {
                AfterCommit::Flush(r) | AfterCommit::Close(r) => {
                    let _ = r.send(());
                }
            }
        }
        if closing {
            rx.close();
            // Commands that raced with Close are dropped; their callers get `StoreError::Closed`.
            break;
        }
    }
    if let Err((_, e)) = conn.close() {
        tracing::error!(error = %e, "store: closing the database failed");
    }
}

fn handle(conn: &Connection, cmd: Cmd) {
    match cmd {
        Cmd::Load { id, reply } => {
            let _ = reply.send(load(conn, &id));
        }
        Cmd::SaveTurn(b) => {
            if let Err(e) = save(conn, &b.0, &b.1) {
                tracing::error!(error = %e, "store: saving a turn failed");
            }
        }
        Cmd::Sweep { now, reply } => {
            let r = conn
                .execute("DELETE FROM sessions WHERE expires_at <= ?1", params![now])
                .map_err(StoreError::from);
            let _ = reply.send(r);
        }
        Cmd::Turns { id, reply } => {
            let _ = reply.send(turns(conn, &id));
        }
        Cmd::Flush { .. } | Cmd::Close { .. } => {}
    }
}

fn load(conn: &Connection, id: &str) -> Result<Option<StoredSession>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT state, created_at, updated_at, expires_at FROM sessions WHERE id = ?1",
        )?
        .query_row(params![id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .optional()?;
    let Some((state, created, updated, expires)) = row else {
        return Ok(None);
    };
    let state = serde_json::from_str(&state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Some(StoredSession {
        state,
        created_at: from_ms(created),
        updated_at: from_ms(updated),
        expires_at: from_ms(expires),
    }))
}

fn save(conn: &Connection, s: &SessionRow, t: &TurnRecord) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(
        "INSERT INTO sessions(id, state, created_at, updated_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, created_at = excluded.created_at,
         updated_at = excluded.updated_at, expires_at = excluded.expires_at",
    )?
    .execute(params![s.id, s.state, s.created_at, s.updated_at, s.expires_at])?;
    conn.prepare_cached(
        "INSERT INTO turns(session_id, at, query, event, intent, confidence, parameters, reply, webhook_status, response)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        t.session_id,
        t.at.timestamp_millis(),
        t.query,
        t.event,
        t.intent,
        t.confidence as f64,
        t.parameters,
        t.reply,
        t.webhook_status,
        t.response
    ])?;
    Ok(())
}

fn turns(conn: &Connection, id: &str) -> Result<Vec<TurnRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, session_id, at, query, event, intent, confidence, parameters, reply, webhook_status, response
         FROM turns WHERE session_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![id], |r| {
        Ok(TurnRow {
            id: r.get(0)?,
            session_id: r.get(1)?,
            at: r.get(2)?,
            query: r.get(3)?,
            event: r.get(4)?,
            intent: r.get(5)?,
            confidence: r.get(6)?,
            parameters: r.get(7)?,
            reply: r.get(8)?,
            webhook_status: r.get(9)?,
            response: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
