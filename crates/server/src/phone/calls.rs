//! Call transcripts: every turn of every call in SQLite (`calls`, `call_turns` in
//! `switchboard.db`), written by one thread with its own connection; served at `GET /v1/calls`
//! and `GET /v1/calls/{id}`.

use crate::clock::Clock;
use rusqlite::{params, Connection, OptionalExtension};
use sb_call::{TurnInput, TurnRecord};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use tokio::sync::oneshot;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS calls (
  id TEXT PRIMARY KEY,
  transport TEXT NOT NULL,
  connector TEXT NOT NULL,
  account_id TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  status TEXT,
  error TEXT,
  params TEXT NOT NULL,
  hangup TEXT
);
CREATE TABLE IF NOT EXISTS call_turns (
  call_id TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  turn INTEGER NOT NULL,
  at TEXT NOT NULL,
  input_kind TEXT NOT NULL,
  caller_text TEXT NOT NULL,
  asr_confidence REAL,
  intent TEXT,
  intent_confidence REAL NOT NULL,
  parameters TEXT NOT NULL,
  bot_text TEXT NOT NULL,
  sentiment_score REAL,
  sentiment_magnitude REAL,
  timings TEXT NOT NULL,
  interrupted INTEGER NOT NULL,
  PRIMARY KEY (call_id, stream_id, turn)
);
CREATE INDEX IF NOT EXISTS calls_started ON calls (started_at);
";

/// Most calls listed by `GET /v1/calls`.
pub const MAX_LIST: usize = 500;

/// The start of a call's stream.
#[derive(Debug, Clone)]
pub struct CallStart {
    pub id: String,
    pub transport: String,
    pub connector: String,
    pub account_id: String,
    pub stream_id: String,
    pub params: Value,
}

enum Cmd {
    Start(CallStart),
    Turn {
        call_id: String,
        stream_id: String,
        record: Box<TurnRecord>,
    },
    End {
        call_id: String,
        status: String,
        error: Option<String>,
        hangup: &'static str,
    },
    List(usize, oneshot::Sender<Result<Value, String>>),
    Get(String, oneshot::Sender<Result<Option<Value>, String>>),
}

/// Handle to the transcript writer thread. Writes never block: a full queue drops (counted).
#[derive(Clone)]
pub struct CallStore {
    tx: SyncSender<Cmd>,
}

fn stamp(clock: &dyn Clock) -> String {
    clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl CallStore {
    /// Opens `<dir>/switchboard.db` (or an in-memory database) and starts the writer thread.
    pub fn open(
        dir: Option<&Path>,
        queue: usize,
        clock: Arc<dyn Clock>,
    ) -> Result<CallStore, String> {
        let conn = match dir {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
                Connection::open(d.join("switchboard.db"))
            }
            None => Connection::open_in_memory(),
        }
        .map_err(|e| format!("cannot open the transcript database: {e}"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .and_then(|_| conn.execute_batch(SCHEMA))
            .and_then(|_| migrate(&conn))
            .map_err(|e| format!("cannot create the transcript tables: {e}"))?;
        let (tx, rx) = sync_channel::<Cmd>(queue.max(1));
        std::thread::Builder::new()
            .name("sb-transcripts".into())
            .spawn(move || {
                while let Ok(cmd) = rx.recv() {
                    if let Err(e) = apply(&conn, cmd, &*clock) {
                        tracing::error!(error = %e, "transcript store");
                    }
                }
            })
            .map_err(|e| format!("cannot start the transcript writer: {e}"))?;
        Ok(CallStore { tx })
    }

    /// Queues a write; `false` when the queue is full (the caller counts it).
    fn send(&self, cmd: Cmd) -> bool {
        match self.tx.try_send(cmd) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
        }
    }

    pub fn start(&self, s: CallStart) -> bool {
        self.send(Cmd::Start(s))
    }

    pub fn turn(&self, call_id: &str, stream_id: &str, record: &TurnRecord) -> bool {
        self.send(Cmd::Turn {
            call_id: call_id.into(),
            stream_id: stream_id.into(),
            record: Box::new(record.clone()),
        })
    }

    /// The call ended with `status`; `hangup` says who hung up and why (see
    /// `events::hangup_name`).
    pub fn end(
        &self,
        call_id: &str,
        status: &str,
        error: Option<String>,
        hangup: &'static str,
    ) -> bool {
        self.send(Cmd::End {
            call_id: call_id.into(),
            status: status.into(),
            error,
            hangup,
        })
    }

    /// The most recent calls, newest first.
    pub async fn list(&self, limit: usize) -> Result<Value, String> {
        let (tx, rx) = oneshot::channel();
        if !self.send(Cmd::List(limit.clamp(1, MAX_LIST), tx)) {
            return Err("transcript store busy".into());
        }
        rx.await
            .map_err(|_| "transcript store stopped".to_string())?
    }

    /// One call with its turns.
    pub async fn get(&self, id: &str) -> Result<Option<Value>, String> {
        let (tx, rx) = oneshot::channel();
        if !self.send(Cmd::Get(id.to_string(), tx)) {
            return Err("transcript store busy".into());
        }
        rx.await
            .map_err(|_| "transcript store stopped".to_string())?
    }
}

/// SQLite stores NaN as NULL: keep scores finite.
fn finite(x: f32) -> f64 {
    if x.is_finite() {
        f64::from(x)
    } else {
        0.0
    }
}

fn apply(conn: &Connection, cmd: Cmd, clock: &dyn Clock) -> rusqlite::Result<()> {
    match cmd {
        Cmd::Start(s) => {
            conn.execute(
                "INSERT INTO calls (id, transport, connector, account_id, stream_id, started_at, params)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(id) DO UPDATE SET stream_id = ?5, ended_at = NULL, status = NULL, error = NULL",
                params![s.id, s.transport, s.connector, s.account_id, s.stream_id, stamp(clock), s.params.to_string()],
            )?;
        }
        Cmd::Turn {
            call_id,
            stream_id,
            record: r,
        } => {
            let (kind, text, conf) = match &r.input {
                TurnInput::Speech { text, confidence } => {
                    ("speech", text.clone(), Some(*confidence))
                }
                TurnInput::Dtmf { digits } => ("dtmf", digits.clone(), None),
                TurnInput::Event { name } => ("event", name.clone(), None),
            };
            let t = &r.timings;
            let timings = json!({
                "speechEndMs": t.speech_end_ms, "asrMs": t.asr_ms, "nluMs": t.nlu_ms,
                "ttsFirstAudioMs": t.tts_first_audio_ms, "replyLatencyMs": t.reply_latency_ms,
            });
            conn.execute(
                "INSERT OR REPLACE INTO call_turns VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    call_id, stream_id, r.turn as i64, stamp(clock), kind, text, conf.map(finite),
                    r.intent, finite(r.confidence), Value::Object(r.parameters.clone()).to_string(),
                    r.bot_text, r.sentiment.map(|s| finite(s.0)), r.sentiment.map(|s| finite(s.1)),
                    timings.to_string(), r.interrupted,
                ],
            )?;
        }
        Cmd::End {
            call_id,
            status,
            error,
            hangup,
        } => {
            conn.execute(
                "UPDATE calls SET ended_at = ?2, status = ?3, error = ?4, hangup = ?5 WHERE id = ?1",
                params![call_id, stamp(clock), status, error, hangup],
            )?;
        }
        Cmd::List(limit, reply) => {
            let _ = reply.send(list(conn, limit).map_err(|e| e.to_string()));
        }
        Cmd::Get(id, reply) => {
            let _ = reply.send(get(conn, &id).map_err(|e| e.to_string()));
        }
    }
    Ok(())
}

const CALL_COLS: &str = "id, transport, connector, account_id, stream_id, started_at, ended_at, \
     status, error, params, hangup";

/// Adds the columns that databases written by older versions lack.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let mut st = conn.prepare("SELECT name FROM pragma_table_info('calls')")?;
    let cols = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if !cols.iter().any(|c| c == "hangup") {
        conn.execute_batch("ALTER TABLE calls ADD COLUMN hangup TEXT")?;
    }
    Ok(())
}

fn call_json(row: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    let params: String = row.get(9)?;
    Ok(json!({
        "id": row.get::<_, String>(0)?,
        "transport": row.get::<_, String>(1)?,
        "connector": row.get::<_, String>(2)?,
        "accountId": row.get::<_, String>(3)?,
        "streamId": row.get::<_, String>(4)?,
        "startedAt": row.get::<_, String>(5)?,
        "endedAt": row.get::<_, Option<String>>(6)?,
        "status": row.get::<_, Option<String>>(7)?,
        "error": row.get::<_, Option<String>>(8)?,
        "hangup": row.get::<_, Option<String>>(10)?,
        "parameters": serde_json::from_str::<Value>(&params).unwrap_or(Value::Null),
    }))
}

fn list(conn: &Connection, limit: usize) -> rusqlite::Result<Value> {
    let mut st = conn.prepare(&format!(
        "SELECT {CALL_COLS} FROM calls ORDER BY started_at DESC, id LIMIT ?1"
    ))?;
    let rows = st.query_map([limit as i64], call_json)?;
    let calls = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(json!({ "calls": calls }))
}

fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<Value>> {
    let call = conn
        .query_row(
            &format!("SELECT {CALL_COLS} FROM calls WHERE id = ?1"),
            [id],
            call_json,
        )
        .optional()?;
    let Some(mut call) = call else {
        return Ok(None);
    };
    let mut st = conn.prepare(
        "SELECT turn, at, input_kind, caller_text, asr_confidence, intent, intent_confidence,
                parameters, bot_text, sentiment_score, sentiment_magnitude, timings, interrupted, stream_id
         FROM call_turns WHERE call_id = ?1 ORDER BY at, turn",
    )?;
    let turns = st
        .query_map([id], |r| {
            let p: String = r.get(7)?;
            let t: String = r.get(11)?;
            let score: Option<f64> = r.get(9)?;
            let sentiment = score.map(
                |s| json!({"score": s, "magnitude": r.get::<_, Option<f64>>(10).ok().flatten()}),
            );
            Ok(json!({
                "turn": r.get::<_, i64>(0)?,
                "at": r.get::<_, String>(1)?,
                "inputKind": r.get::<_, String>(2)?,
                "callerText": r.get::<_, String>(3)?,
                "asrConfidence": r.get::<_, Option<f64>>(4)?,
                "intent": r.get::<_, Option<String>>(5)?,
                "intentConfidence": r.get::<_, f64>(6)?,
                "parameters": serde_json::from_str::<Value>(&p).unwrap_or(Value::Null),
                "botText": r.get::<_, String>(8)?,
                "sentiment": sentiment,
                "timings": serde_json::from_str::<Value>(&t).unwrap_or(Value::Null),
                "interrupted": r.get::<_, bool>(12)?,
                "streamId": r.get::<_, String>(13)?,
            }))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if let Some(o) = call.as_object_mut() {
        o.insert("turns".into(), Value::Array(turns));
    }
    Ok(Some(call))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database written before the `hangup` column existed opens, keeps its calls, and
    /// records hang-ups from then on.
    #[tokio::test]
    async fn an_older_database_gains_the_hangup_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let old = Connection::open(dir.path().join("switchboard.db")).expect("open");
            old.execute_batch(
                "CREATE TABLE calls (id TEXT PRIMARY KEY, transport TEXT NOT NULL,
                   connector TEXT NOT NULL, account_id TEXT NOT NULL, stream_id TEXT NOT NULL,
                   started_at TEXT NOT NULL, ended_at TEXT, status TEXT, error TEXT,
                   params TEXT NOT NULL);
                 INSERT INTO calls VALUES ('CAold', 'twilio', 'default', 'AC1', 'MZ1',
                   '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z', 'completed', NULL, '{}');",
            )
            .expect("old schema");
        }
        let store = CallStore::open(Some(dir.path()), 8, Arc::new(crate::clock::SystemClock))
            .expect("store");
        let old = store.get("CAold").await.expect("get").expect("kept");
        assert_eq!(old["status"], "completed");
        assert!(old["hangup"].is_null(), "{old}");
        assert!(store.start(CallStart {
            id: "CAnew".into(),
            transport: "twilio".into(),
            connector: "default".into(),
            account_id: "AC1".into(),
            stream_id: "MZ2".into(),
            params: json!({}),
        }));
        assert!(store.end("CAnew", "completed", None, "no-input"));
        let new = store.get("CAnew").await.expect("get").expect("stored");
        assert_eq!(new["hangup"], "no-input", "{new}");
        assert_eq!(new["status"], "completed", "{new}");
    }
}
