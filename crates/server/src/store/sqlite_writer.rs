//! The SQLite sessions writer: one task drains the queued commands into one transaction. Turns
//! queued back to back are written with one multi-row statement per table, so a batch costs a few
//! statements, not two per turn. Reads in the batch run in queue order, after the writes queued
//! before them.
//!
//! A session whose write is queued but not yet committed is kept in [`Queued`] until its batch is
//! done, so loading a session never waits behind the writer: [`Queued`] first, then the database.

use super::backend::{self, Kind};
use super::sessions::{self, Cmd, SessionRow, INSERT_TURN, MAX_BATCH, UPSERT};
use super::{StoreError, TurnRecord};
use sqlx::{AnyConnection, AnyPool};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Rows per multi-row statement: 10 parameters a turn stays far below SQLite's 32,766.
const ROWS_PER_STATEMENT: usize = 256;

type Pending = Vec<Box<(SessionRow, TurnRecord)>>;

/// How long a batch of turns waits for more before it is committed.
const GROUP_COMMIT: std::time::Duration = std::time::Duration::from_millis(5);

/// The newest queued, uncommitted row of each session with a write in the queue.
#[derive(Default)]
pub(crate) struct Queued(Mutex<HashMap<String, SessionRow>>);

impl Queued {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionRow>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Called before the row is queued.
    pub fn put(&self, row: &SessionRow) {
        self.map().insert(row.id.clone(), row.clone());
    }

    pub fn get(&self, id: &str) -> Option<SessionRow> {
        self.map().get(id).cloned()
    }

    /// The batch holding these rows is done (committed, or lost with an error logged): forget
    /// them unless a newer write of the same session was queued since.
    fn done(&self, ids: &[(String, i64)]) {
        let mut map = self.map();
        for (id, version) in ids {
            if map.get(id).is_some_and(|r| r.version == *version) {
                map.remove(id);
            }
        }
    }
}

/// Runs until [`Cmd::Close`] or until every sender is gone.
pub(crate) async fn run(pool: AnyPool, mut rx: mpsc::Receiver<Cmd>, queued: Arc<Queued>) {
    let mut batch = Vec::with_capacity(64);
    let mut ids = Vec::with_capacity(64);
    // The writer keeps its own connection, so its page cache stays warm: SQLite empties a
    // connection's cache whenever another connection wrote. Not with an in-memory database,
    // whose pool is that one connection.
    let keep = pool.options().get_max_connections() > 1;
    let mut held: Held = None;
    loop {
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break;
        }
        if batch.iter().all(|c| matches!(c, Cmd::SaveTurn(_))) {
            // Group commit: a commit costs about as much for one turn as for many, and nothing
            // waits on a turn's commit (the module docs), so the turns of the next moment join.
            tokio::time::sleep(GROUP_COMMIT).await;
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(c) => batch.push(c),
                    Err(_) => break,
                }
            }
        }
        ids.extend(batch.iter().filter_map(|c| match c {
            Cmd::SaveTurn(t) => Some((t.0.id.clone(), t.0.version)),
            _ => None,
        }));
        let closing = run_batch(&pool, &mut held, &mut batch).await;
        if !keep {
            held = None;
        }
        queued.done(&ids);
        ids.clear();
        if closing {
            // Commands that raced with Close are dropped; their callers get `StoreError::Closed`.
            rx.close();
            break;
        }
    }
}

/// Runs `batch` in one transaction; replies to flushes once it is committed. True on Close.
async fn run_batch(pool: &AnyPool, held: &mut Held, batch: &mut Vec<Cmd>) -> bool {
    let reads = batch
        .iter()
        .any(|c| matches!(c, Cmd::Sweep { .. } | Cmd::Turns { .. }));
    if !reads {
        return run_writes(pool, held, batch).await;
    }
    // Its own connection: an in-memory database has only the one.
    *held = None;
    let mut after: Vec<oneshot::Sender<()>> = Vec::new();
    let mut closing = false;
    // Reads are answered once the batch is committed: a sweep's caller may next read beside
    // the writer (`Store::load`) and must not find what it deleted.
    let mut answers: Vec<Answer> = Vec::new();
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
                        answers.push(handle_read(&mut conn, read).await);
                    }
                }
            }
            write(&mut conn, &mut pending).await;
            if let Err(e) = backend::commit(&mut conn).await {
                tracing::error!(error = %e, "store: commit failed; the batch is lost");
                backend::rollback(conn).await;
            }
            for answer in answers {
                answer();
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

/// A batch of writes only (the usual case): the transaction is one multi-statement query, one
/// round trip to the connection's thread instead of one per statement.
async fn run_writes(pool: &AnyPool, held: &mut Held, batch: &mut Vec<Cmd>) -> bool {
    let mut after: Vec<oneshot::Sender<()>> = Vec::new();
    let mut closing = false;
    let mut pending: Pending = Vec::new();
    for cmd in batch.drain(..) {
        match cmd {
            Cmd::SaveTurn(t) => pending.push(t),
            Cmd::Flush { reply } => after.push(reply),
            Cmd::Close { reply } => {
                after.push(reply);
                closing = true;
            }
            Cmd::Sweep { .. } | Cmd::Turns { .. } => {}
        }
    }
    if !pending.is_empty() {
        if let Err(e) = write_in_one_trip(pool, held, &pending).await {
            tracing::error!(error = %e, turns = pending.len(), "store: saving turns failed; the batch is lost");
        }
    }
    for r in after {
        let _ = r.send(());
    }
    closing
}

/// The writer's connection between batches.
type Held = Option<sqlx::pool::PoolConnection<sqlx::Any>>;

async fn write_in_one_trip(
    pool: &AnyPool,
    held: &mut Held,
    pending: &Pending,
) -> Result<(), sqlx::Error> {
    let sessions = last_rows(pending);
    let mut sql = String::from("BEGIN IMMEDIATE; ");
    let (head, tail) = split_values(UPSERT);
    for chunk in sessions.chunks(ROWS_PER_STATEMENT) {
        sql.push_str(&multi_row(head, 6, chunk.len(), tail));
        sql.push_str("; ");
    }
    let (head, tail) = split_values(INSERT_TURN);
    for chunk in pending.chunks(ROWS_PER_STATEMENT) {
        sql.push_str(&multi_row(head, 10, chunk.len(), tail));
        sql.push_str("; ");
    }
    sql.push_str("COMMIT");
    let mut q = sqlx::query(&sql).persistent(false);
    for s in &sessions {
        q = bind_session(q, s);
    }
    for p in pending {
        q = sessions::bind_turn(q, &p.1);
    }
    let conn = match held {
        Some(c) => c,
        None => held.insert(pool.acquire().await?),
    };
    if let Err(e) = q.execute(&mut **conn).await {
        if let Some(c) = held.take() {
            backend::rollback(c).await;
        }
        return Err(e);
    }
    Ok(())
}

/// One row per session, its last state (SQLite would apply duplicates in order anyway).
fn last_rows(pending: &Pending) -> Vec<&SessionRow> {
    let mut last: HashMap<&str, &SessionRow> = HashMap::new();
    for p in pending {
        last.insert(&p.0.id, &p.0);
    }
    last.into_values().collect()
}

fn bind_session<'q>(q: sessions::AnyQuery<'q>, s: &'q SessionRow) -> sessions::AnyQuery<'q> {
    q.bind(&s.id)
        .bind(&s.state)
        .bind(s.created_at)
        .bind(s.updated_at)
        .bind(s.expires_at)
        .bind(s.version)
}

/// A read's reply, sent after the commit.
type Answer = Box<dyn FnOnce() + Send>;

async fn handle_read(conn: &mut AnyConnection, cmd: Cmd) -> Answer {
    match cmd {
        Cmd::Sweep { now, reply } => {
            let r = sessions::sweep(conn, now).await;
            Box::new(move || {
                let _ = reply.send(r);
            })
        }
        Cmd::Turns { id, reply } => {
            let r = sessions::turns(conn, &id).await;
            Box::new(move || {
                let _ = reply.send(r);
            })
        }
        Cmd::SaveTurn(_) | Cmd::Flush { .. } | Cmd::Close { .. } => Box::new(|| {}),
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

/// `INSERT … VALUES (…)` with `rows` rows of `cols` parameters: `(?, …), (?, …)…` then `tail`.
/// Anonymous parameters: SQLite finds a numbered one by a linear search of the statement's
/// parameter names, which is quadratic over a statement of thousands.
fn multi_row(head: &str, cols: usize, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + rows * cols * 3 + tail.len());
    sql.push_str(head);
    for r in 0..rows {
        sql.push_str(if r == 0 { " (" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('?');
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
    let sessions = last_rows(pending);
    let (head, tail) = split_values(UPSERT);
    for chunk in sessions.chunks(ROWS_PER_STATEMENT) {
        let sql = multi_row(head, 6, chunk.len(), tail);
        let mut q = sqlx::query(&sql).persistent(false);
        for s in chunk {
            q = bind_session(q, s);
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
    fn multi_row_statements_have_a_parameter_per_column_and_row() {
        let (head, tail) = split_values(UPSERT);
        let sql = multi_row(head, 6, 2, tail);
        assert!(
            sql.contains("VALUES (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?) ")
                && sql.contains("ON CONFLICT(id) DO UPDATE"),
            "{sql}"
        );
        let (head, tail) = split_values(INSERT_TURN);
        let sql = multi_row(head, 10, 1, tail);
        assert!(
            sql.ends_with("VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "),
            "{sql}"
        );
    }
}
