//! The SQLite sessions writer: one task drains the queued commands into one transaction. Turns
//! queued back to back are written with one multi-row statement per table, so a batch costs a few
//! statements, not two per turn. Reads in the batch run in queue order, after the writes queued
//! before them.

use super::backend::{self, Kind};
use super::sessions::{self, Cmd, SessionRow, INSERT_TURN, MAX_BATCH, UPSERT};
use super::{StoreError, TurnRecord};
use sqlx::{AnyConnection, AnyPool};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Rows per multi-row statement: 10 parameters a turn stays far below SQLite's 32,766.
const ROWS_PER_STATEMENT: usize = 256;

type Pending = Vec<Box<(SessionRow, TurnRecord)>>;

/// Runs until [`Cmd::Close`] or until every sender is gone.
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
    match backend::acquire_write(pool, Kind::Sqlite).await {
        Ok(mut conn) => {
            let mut pending: Pending = Vec::new();
            for cmd in batch.drain(..) {
                match cmd {
                    Cmd::SaveTurn(t) => pending.push(t),
                    Cmd::Flush { reply } => after.push(reply),
                    Cmd::Close { reply } => {
                        after.push(reply);
                        closing = true;
                    }
                    read => {
                        write(&mut conn, &mut pending).await;
                        handle_read(&mut conn, read).await;
                    }
                }
            }
            write(&mut conn, &mut pending).await;
            if let Err(e) = backend::commit(&mut conn).await {
                tracing::error!(error = %e, "store: commit failed; the batch is lost");
                backend::rollback(conn).await;
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "store: cannot begin a transaction; the batch is lost");
            let e = Arc::new(e);
            let err = || StoreError::Batch(e.clone());
            for cmd in batch.drain(..) {
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

async fn handle_read(conn: &mut AnyConnection, cmd: Cmd) {
    match cmd {
        Cmd::Load { id, reply } => {
            let _ = reply.send(sessions::load(conn, &id).await);
        }
        Cmd::Sweep { now, reply } => {
            let _ = reply.send(sessions::sweep(conn, now).await);
        }
        Cmd::Turns { id, reply } => {
            let _ = reply.send(sessions::turns(conn, &id).await);
        }
        Cmd::SaveTurn(_) | Cmd::Flush { .. } | Cmd::Close { .. } => {}
    }
}

/// Writes the pending turns and their sessions (a session written twice keeps its last state).
async fn write(conn: &mut AnyConnection, pending: &mut Pending) {
    let result = match pending.len() {
        0 => return,
        1 => sessions::save(conn, &pending[0].0, &pending[0].1).await,
        _ => write_many(conn, pending).await,
    };
    if let Err(e) = result {
        tracing::error!(error = %e, turns = pending.len(), "store: saving turns failed");
    }
    pending.clear();
}

/// `INSERT … VALUES (…)` with `rows` rows of `cols` parameters: `($1, …), ($n+1, …)…` then `tail`.
fn multi_row(head: &str, cols: usize, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + rows * cols * 5 + tail.len());
    sql.push_str(head);
    for r in 0..rows {
        sql.push_str(if r == 0 { " (" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(r * cols + c + 1).to_string());
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(tail);
    sql
}

/// The head of a one-row statement (up to `VALUES`) and what follows its row.
fn split_values(one_row: &str) -> (&str, &str) {
    let at = one_row.find("VALUES").map_or(0, |i| i + "VALUES".len());
    let rest = &one_row[at..];
    let end = rest.find(')').map_or(rest.len(), |i| i + 1);
    (&one_row[..at], &rest[end..])
}

async fn write_many(conn: &mut AnyConnection, pending: &Pending) -> Result<(), sqlx::Error> {
    // One row per session, its last state (SQLite would apply duplicates in order anyway).
    let mut last: HashMap<&str, &SessionRow> = HashMap::new();
    for p in pending {
        last.insert(&p.0.id, &p.0);
    }
    let sessions: Vec<&SessionRow> = last.into_values().collect();
    let (head, tail) = split_values(UPSERT);
    for chunk in sessions.chunks(ROWS_PER_STATEMENT) {
        let sql = multi_row(head, 6, chunk.len(), tail);
        let mut q = sqlx::query(&sql).persistent(false);
        for s in chunk {
            q = q
                .bind(&s.id)
                .bind(&s.state)
                .bind(s.created_at)
                .bind(s.updated_at)
                .bind(s.expires_at)
                .bind(s.version);
        }
        q.execute(&mut *conn).await?;
    }
    let (head, tail) = split_values(INSERT_TURN);
    for chunk in pending.chunks(ROWS_PER_STATEMENT) {
        let sql = multi_row(head, 10, chunk.len(), tail);
        let mut q = sqlx::query(&sql).persistent(false);
        for p in chunk {
            q = sessions::bind_turn(q, &p.1);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_statements_number_their_parameters() {
        let (head, tail) = split_values(UPSERT);
        let sql = multi_row(head, 6, 2, tail);
        assert!(
            sql.contains("VALUES ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12)")
                && sql.contains("ON CONFLICT(id) DO UPDATE"),
            "{sql}"
        );
        let (head, tail) = split_values(INSERT_TURN);
        let sql = multi_row(head, 10, 1, tail);
        assert!(
            sql.ends_with("($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "),
            "{sql}"
        );
    }
}
