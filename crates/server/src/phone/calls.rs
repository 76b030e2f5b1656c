//! Call transcripts: every turn of every call in the store (`calls`, `call_turns`), served at
//! `GET /v1/calls` and `GET /v1/calls/{id}`. Writes never block the call: a full queue drops
//! them (the caller counts the drop).

use crate::clock::Clock;
use crate::store::{CallEndRow, CallRow, CallStartRow, CallTurnRow, Store, StoreError};
use sb_call::{TurnInput, TurnRecord};
use serde_json::{json, Value};
use std::sync::Arc;

pub use crate::store::MAX_LIST;

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

/// The transcripts of the server's [`Store`], stamped with the server's clock.
#[derive(Clone)]
pub struct CallStore {
    store: Store,
    clock: Arc<dyn Clock>,
}

fn stamp(clock: &dyn Clock) -> String {
    clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The store keeps finite numbers only (SQLite stores NaN as NULL).
fn finite(x: f32) -> f64 {
    if x.is_finite() {
        f64::from(x)
    } else {
        0.0
    }
}

impl CallStore {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> CallStore {
        CallStore { store, clock }
    }

    /// Queues the start of a call; `false` when the queue is full (the caller counts it).
    pub fn start(&self, s: CallStart) -> bool {
        self.store.record_call_start(CallStartRow {
            id: s.id,
            transport: s.transport,
            connector: s.connector,
            account_id: s.account_id,
            stream_id: s.stream_id,
            started_at: stamp(&*self.clock),
            params: s.params.to_string(),
        })
    }

    pub fn turn(&self, call_id: &str, stream_id: &str, r: &TurnRecord) -> bool {
        let (kind, text, conf) = match &r.input {
            TurnInput::Speech { text, confidence } => ("speech", text.clone(), Some(*confidence)),
            TurnInput::Dtmf { digits } => ("dtmf", digits.clone(), None),
            TurnInput::Event { name } => ("event", name.clone(), None),
        };
        let t = &r.timings;
        let timings = json!({
            "speechEndMs": t.speech_end_ms, "asrMs": t.asr_ms, "nluMs": t.nlu_ms,
            "ttsFirstAudioMs": t.tts_first_audio_ms, "replyLatencyMs": t.reply_latency_ms,
        });
        self.store.record_call_turn(CallTurnRow {
            call_id: call_id.into(),
            stream_id: stream_id.into(),
            turn: i64::try_from(r.turn).unwrap_or(i64::MAX),
            at: stamp(&*self.clock),
            input_kind: kind.into(),
            caller_text: text,
            asr_confidence: conf.map(finite),
            intent: r.intent.clone(),
            intent_confidence: finite(r.confidence),
            parameters: Value::Object(r.parameters.clone()).to_string(),
            bot_text: r.bot_text.clone(),
            sentiment_score: r.sentiment.map(|s| finite(s.0)),
            sentiment_magnitude: r.sentiment.map(|s| finite(s.1)),
            timings: timings.to_string(),
            interrupted: r.interrupted,
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
        self.store.record_call_end(CallEndRow {
            call_id: call_id.into(),
            ended_at: stamp(&*self.clock),
            status: status.into(),
            error,
            hangup: hangup.into(),
        })
    }

    /// The most recent calls, newest first.
    pub async fn list(&self, limit: usize) -> Result<Value, StoreError> {
        let calls = self.store.list_calls(limit).await?;
        let calls: Vec<Value> = calls.iter().map(call_json).collect();
        Ok(json!({ "calls": calls }))
    }

    /// One call with its turns.
    pub async fn get(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let Some((call, turns)) = self.store.get_call(id).await? else {
            return Ok(None);
        };
        let mut call = call_json(&call);
        let turns = turns.iter().map(turn_json).collect();
        if let Some(o) = call.as_object_mut() {
            o.insert("turns".into(), Value::Array(turns));
        }
        Ok(Some(call))
    }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

fn call_json(c: &CallRow) -> Value {
    json!({
        "id": c.id,
        "transport": c.transport,
        "connector": c.connector,
        "accountId": c.account_id,
        "streamId": c.stream_id,
        "startedAt": c.started_at,
        "endedAt": c.ended_at,
        "status": c.status,
        "error": c.error,
        "hangup": c.hangup,
        "parameters": parse(&c.params),
    })
}

fn turn_json(t: &CallTurnRow) -> Value {
    let sentiment = t
        .sentiment_score
        .map(|s| json!({"score": s, "magnitude": t.sentiment_magnitude}));
    json!({
        "turn": t.turn,
        "at": t.at,
        "inputKind": t.input_kind,
        "callerText": t.caller_text,
        "asrConfidence": t.asr_confidence,
        "intent": t.intent,
        "intentConfidence": t.intent_confidence,
        "parameters": parse(&t.parameters),
        "botText": t.bot_text,
        "sentiment": sentiment,
        "timings": parse(&t.timings),
        "interrupted": t.interrupted,
        "streamId": t.stream_id,
    })
}
