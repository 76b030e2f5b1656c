//! Call transcripts (`calls`, `call_turns`): one writer task per store batches the queued writes
//! into transactions. Writes never wait: a full queue drops them (the caller counts the drop).
//! Reads go through the same queue, so they see every write queued before them.

use super::backend::{self, Fut, Kind};
use super::{Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Executor, Row};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Capacity of the transcript writer's queue.
pub const CALLS_QUEUE: usize = 8_192;
/// Most calls one list returns.
pub const MAX_LIST: usize = 500;
/// Most commands per transaction.
const MAX_BATCH: usize = 512;

/// The start (or restart, on a new stream) of a call. Times are RFC 3339 text.
#[derive(Debug, Clone, PartialEq)]
pub struct CallStartRow {
    pub id: String,
    pub transport: String,
    pub connector: String,
    pub account_id: String,
    pub stream_id: String,
    pub started_at: String,
    /// Session parameters, JSON.
    pub params: String,
}

/// One turn of a call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallTurnRow {
    pub call_id: String,
    pub stream_id: String,
    pub turn: i64,
    pub at: String,
    /// `speech`, `dtmf` or `event`.
    pub input_kind: String,
    pub caller_text: String,
    pub asr_confidence: Option<f64>,
    pub intent: Option<String>,
    pub intent_confidence: f64,
    /// JSON object.
    pub parameters: String,
    pub bot_text: String,
    pub sentiment_score: Option<f64>,
    pub sentiment_magnitude: Option<f64>,
    /// JSON object.
    pub timings: String,
    pub interrupted: bool,
}

/// The end of a call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEndRow {
    pub call_id: String,
    pub ended_at: String,
    pub status: String,
    pub error: Option<String>,
    pub hangup: String,
}

/// A stored call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRow {
    pub id: String,
    pub transport: String,
    pub connector: String,
    pub account_id: String,
    pub stream_id: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub status: Option<String>,
    pub error: Option<String>,
    /// Session parameters, JSON.
    pub params: String,
    pub hangup: Option<String>,
}

type CallWithTurns = (CallRow, Vec<CallTurnRow>);

pub(crate) enum Cmd {
    Start(CallStartRow),
    Turn(Box<CallTurnRow>),
    End(CallEndRow),
    List {
        limit: usize,
        reply: oneshot::Sender<Result<Vec<CallRow>, StoreError>>,
    },
    Get {
        id: String,
        reply: oneshot::Sender<Result<Option<CallWithTurns>, StoreError>>,
    },
    Flush {
        reply: oneshot::Sender<()>,
    },
    Close {
        reply: oneshot::Sender<()>,
    },
}

impl Store {
    fn queue_call(&self, cmd: Cmd) -> bool {
        self.inner.calls.try_send(cmd).is_ok()
    }

    /// Queues a call's start; false when the queue is full or the store closed (not written).
    pub fn record_call_start(&self, row: CallStartRow) -> bool {
        self.queue_call(Cmd::Start(row))
    }

    /// Queues one turn of a call; false when not queued.
    pub fn record_call_turn(&self, row: CallTurnRow) -> bool {
        self.queue_call(Cmd::Turn(Box::new(row)))
    }

    /// Queues a call's end; false when not queued.
    pub fn record_call_end(&self, row: CallEndRow) -> bool {
        self.queue_call(Cmd::End(row))
    }

    /// The most recent calls (at most [`MAX_LIST`]), newest first.
    pub async fn list_calls(&self, limit: usize) -> Result<Vec<CallRow>, StoreError> {
        let (reply, rx) = oneshot::channel();
        let limit = limit.clamp(1, MAX_LIST);
        if !self.queue_call(Cmd::List { limit, reply }) {
            return Err(self.not_queued());
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// One call with its turns, in the order they happened.
    pub async fn get_call(&self, id: &str) -> Result<Option<CallWithTurns>, StoreError> {
        let (reply, rx) = oneshot::channel();
        let id = id.to_string();
        if !self.queue_call(Cmd::Get { id, reply }) {
            return Err(self.not_queued());
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    fn not_queued(&self) -> StoreError {
        if self.inner.calls.is_closed() {
            StoreError::Closed
        } else {
            StoreError::Busy
        }
    }
}

/// The writer: runs until [`Cmd::Close`] or until every sender is gone.
pub(crate) async fn run(pool: AnyPool, kind: Kind, mut rx: mpsc::Receiver<Cmd>) {
    let mut batch = Vec::with_capacity(64);
    loop {
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break;
        }
        let mut after = Vec::new();
        let mut closing = false;
        let mut work = Vec::with_capacity(batch.len());
        for cmd in batch.drain(..) {
            match cmd {
                Cmd::Flush { reply } => after.push(reply),
                Cmd::Close { reply } => {
                    after.push(reply);
                    closing = true;
                }
                other => work.push(other),
            }
        }
        if !work.is_empty() {
            run_batch(&pool, kind, work).await;
        }
        for r in after {
            let _ = r.send(());
        }
        if closing {
            rx.close();
            break;
        }
    }
}

async fn run_batch(pool: &AnyPool, kind: Kind, work: Vec<Cmd>) {
    let conn = backend::acquire_write(pool, kind).await;
    let mut conn = match conn {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "transcript store: no transaction; the batch is lost");
            let e = Arc::new(e);
            for cmd in work {
                match cmd {
                    Cmd::List { reply, .. } => {
                        let _ = reply.send(Err(StoreError::Batch(e.clone())));
                    }
                    Cmd::Get { reply, .. } => {
                        let _ = reply.send(Err(StoreError::Batch(e.clone())));
                    }
                    _ => {}
                }
            }
            return;
        }
    };
    for cmd in work {
        if let Err(e) = apply(&mut conn, kind, cmd).await {
            tracing::error!(error = %e, "transcript store");
            if kind == Kind::Postgres {
                // A failed statement aborts a PostgreSQL transaction: keep what came before it.
                rollback_to_savepoint(&mut conn).await;
            }
        }
    }
    if let Err(e) = backend::commit(&mut conn).await {
        tracing::error!(error = %e, "transcript store: commit failed; the batch is lost");
        backend::rollback(conn).await;
    }
}

/// PostgreSQL only: after a failed statement the transaction accepts nothing but a rollback.
/// Statements are wrapped in savepoints there, so roll back to the last one and go on.
fn rollback_to_savepoint(conn: &mut AnyConnection) -> Fut<'_, ()> {
    Box::pin(async move {
        if let Err(e) = conn.execute("ROLLBACK TO SAVEPOINT cmd").await {
            tracing::error!(error = %e, "transcript store: rollback to savepoint failed");
        }
    })
}

fn apply(conn: &mut AnyConnection, kind: Kind, cmd: Cmd) -> Fut<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        let savepoint =
            kind == Kind::Postgres && !matches!(cmd, Cmd::List { .. } | Cmd::Get { .. });
        if savepoint {
            conn.execute("SAVEPOINT cmd").await?;
        }
        match cmd {
            Cmd::Start(s) => {
                sqlx::query(
                "INSERT INTO calls (id, transport, connector, account_id, stream_id, started_at, params)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT(id) DO UPDATE SET stream_id = excluded.stream_id, ended_at = NULL,
                 status = NULL, error = NULL",
            )
            .bind(s.id)
            .bind(s.transport)
            .bind(s.connector)
            .bind(s.account_id)
            .bind(s.stream_id)
            .bind(s.started_at)
            .bind(s.params)
            .execute(&mut *conn)
            .await?;
            }
            Cmd::Turn(t) => {
                let t = *t;
                sqlx::query(
                    "INSERT INTO call_turns (call_id, stream_id, turn, at, input_kind, caller_text,
                   asr_confidence, intent, intent_confidence, parameters, bot_text, sentiment_score,
                   sentiment_magnitude, timings, interrupted)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT(call_id, stream_id, turn) DO UPDATE SET at = excluded.at,
                   input_kind = excluded.input_kind, caller_text = excluded.caller_text,
                   asr_confidence = excluded.asr_confidence, intent = excluded.intent,
                   intent_confidence = excluded.intent_confidence, parameters = excluded.parameters,
                   bot_text = excluded.bot_text, sentiment_score = excluded.sentiment_score,
                   sentiment_magnitude = excluded.sentiment_magnitude, timings = excluded.timings,
                   interrupted = excluded.interrupted",
                )
                // sqlx 0.8's `Any` sends a NULL double to PostgreSQL as `real` and a value as
                // `double precision`: a statement prepared with one fails with the other. Not
                // cached, it is prepared with the types of each call.
                .persistent(false)
                .bind(t.call_id)
                .bind(t.stream_id)
                .bind(t.turn)
                .bind(t.at)
                .bind(t.input_kind)
                .bind(t.caller_text)
                .bind(t.asr_confidence)
                .bind(t.intent)
                .bind(t.intent_confidence)
                .bind(t.parameters)
                .bind(t.bot_text)
                .bind(t.sentiment_score)
                .bind(t.sentiment_magnitude)
                .bind(t.timings)
                .bind(t.interrupted)
                .execute(&mut *conn)
                .await?;
            }
            Cmd::End(e) => {
                sqlx::query(
                "UPDATE calls SET ended_at = $2, status = $3, error = $4, hangup = $5 WHERE id = $1",
            )
            .bind(e.call_id)
            .bind(e.ended_at)
            .bind(e.status)
            .bind(e.error)
            .bind(e.hangup)
            .execute(&mut *conn)
            .await?;
            }
            Cmd::List { limit, reply } => {
                let _ = reply.send(list(conn, limit).await);
            }
            Cmd::Get { id, reply } => {
                let _ = reply.send(get(conn, &id).await);
            }
            Cmd::Flush { .. } | Cmd::Close { .. } => {}
        }
        if savepoint {
            conn.execute("RELEASE SAVEPOINT cmd").await?;
        }
        Ok(())
    })
}

const CALL_COLS: &str = "id, transport, connector, account_id, stream_id, started_at, ended_at, \
     status, error, params, hangup";

fn call_row(r: &AnyRow) -> Result<CallRow, sqlx::Error> {
    Ok(CallRow {
        id: r.try_get(0)?,
        transport: r.try_get(1)?,
        connector: r.try_get(2)?,
        account_id: r.try_get(3)?,
        stream_id: r.try_get(4)?,
        started_at: r.try_get(5)?,
        ended_at: r.try_get(6)?,
        status: r.try_get(7)?,
        error: r.try_get(8)?,
        params: r.try_get(9)?,
        hangup: r.try_get(10)?,
    })
}

fn list(conn: &mut AnyConnection, limit: usize) -> Fut<'_, Result<Vec<CallRow>, StoreError>> {
    Box::pin(async move {
        let rows = sqlx::query(&format!(
            "SELECT {CALL_COLS} FROM calls ORDER BY started_at DESC, id LIMIT $1"
        ))
        .bind(limit as i64)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows.iter().map(call_row).collect::<Result<_, _>>()?)
    })
}

fn get<'a>(
    conn: &'a mut AnyConnection,
    id: &'a str,
) -> Fut<'a, Result<Option<CallWithTurns>, StoreError>> {
    Box::pin(async move {
        let call = sqlx::query(&format!("SELECT {CALL_COLS} FROM calls WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(call) = call else {
            return Ok(None);
        };
        let call = call_row(&call)?;
        // `interrupted` is an integer in SQLite and a boolean in PostgreSQL: read it as a number.
        let rows = sqlx::query(
            "SELECT call_id, stream_id, turn, at, input_kind, caller_text, asr_confidence, intent,
                intent_confidence, parameters, bot_text, sentiment_score, sentiment_magnitude,
                timings, CASE WHEN interrupted THEN 1 ELSE 0 END
         FROM call_turns WHERE call_id = $1 ORDER BY at, turn",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let turns = rows
            .iter()
            .map(|r| {
                Ok(CallTurnRow {
                    call_id: r.try_get(0)?,
                    stream_id: r.try_get(1)?,
                    turn: r.try_get(2)?,
                    at: r.try_get(3)?,
                    input_kind: r.try_get(4)?,
                    caller_text: r.try_get(5)?,
                    asr_confidence: r.try_get(6)?,
                    intent: r.try_get(7)?,
                    intent_confidence: r.try_get(8)?,
                    parameters: r.try_get(9)?,
                    bot_text: r.try_get(10)?,
                    sentiment_score: r.try_get(11)?,
                    sentiment_magnitude: r.try_get(12)?,
                    timings: r.try_get(13)?,
                    interrupted: r.try_get::<i64, _>(14)? != 0,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(Some((call, turns)))
    })
}
