//! What the driver does with [`CallEvent`]s: status callbacks and analytics, transcripts,
//! latency metrics, and at the end of the call the `action` callback, handoff and pause.

use super::driver::Driver;
use super::handoff::HandoffError;
use super::metrics::Stage;
use super::setup::Phone;
use super::start::transport_name;
use sb_call::{CallEvent, EndStatus, HangupReason};
use sb_nlu::dialog::SessionState;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// Per-call timing bookkeeping for the latency histograms.
#[derive(Default)]
pub struct Bookkeeping {
    asr_sent_at: HashMap<u64, u64>,
    first_audio_at: HashMap<u64, u64>,
    speech_end: HashMap<u64, u64>,
    /// A `Clear` must be written before the next audio.
    pub pending_clear: bool,
    /// The last engine answer's DF query result (for the end of interaction).
    last_query_result: Value,
    ended: Option<(EndStatus, Box<SessionState>)>,
    started: bool,
}

impl Bookkeeping {
    pub(crate) fn started(&mut self, d: &Driver) {
        self.started = true;
        let info = &d.setup.info;
        d.phone.metrics.call_started(transport_name(d.platform));
        let ok = d.phone.calls.start(super::calls::CallStart {
            id: info.call_id.clone(),
            transport: transport_name(d.platform).into(),
            connector: info.connector.clone(),
            account_id: info.account_sid.clone(),
            stream_id: d.setup.stream_id.clone(),
            params: Value::Object(d.setup.session_params.clone()),
        });
        if !ok {
            d.phone.metrics.dropped("transcripts");
        }
        d.phone
            .console
            .started(&info.call_id, &d.setup.session_params);
    }

    pub fn asr_sent(&mut self, turn: u64, at: u64) {
        self.asr_sent_at.insert(turn, at);
    }

    pub fn asr_done(&mut self, phone: &Phone, turn: u64, at: u64) {
        if let Some(sent) = self.asr_sent_at.get(&turn) {
            phone.metrics.observe(Stage::Asr, at.saturating_sub(*sent));
        }
    }

    /// The first audio frame of `turn` was written to the socket at `at`.
    pub fn first_audio(&mut self, phone: &Phone, turn: u64, at: u64) {
        self.first_audio_at.insert(turn, at);
        if let Some(end) = self.speech_end.remove(&turn) {
            phone
                .metrics
                .observe(Stage::ReplyLatency, at.saturating_sub(end));
        }
    }

    fn turn_done(&mut self, phone: &Phone, turn: u64, speech_end: Option<u64>) {
        let Some(end) = speech_end else {
            return;
        };
        if let Some(sent) = self.asr_sent_at.get(&turn) {
            phone
                .metrics
                .observe(Stage::Endpointing, sent.saturating_sub(end));
        }
        match self.first_audio_at.get(&turn) {
            Some(first) => phone
                .metrics
                .observe(Stage::ReplyLatency, first.saturating_sub(end)),
            None => {
                self.speech_end.insert(turn, end);
            }
        }
    }
}

fn sentiment_of(query_result: &Value) -> Option<(f32, f32)> {
    let s = query_result
        .get("sentimentAnalysisResult")?
        .get("queryTextSentiment")?;
    let score = s.get("score").and_then(Value::as_f64).unwrap_or(0.0);
    let magnitude = s.get("magnitude").and_then(Value::as_f64).unwrap_or(0.0);
    Some((score as f32, magnitude as f32))
}

pub fn outcome_name(s: &EndStatus) -> &'static str {
    match s {
        EndStatus::Completed => "completed",
        EndStatus::LiveAgentHandoff { .. } => "live-agent-handoff",
        EndStatus::Paused { .. } => "paused",
        EndStatus::Failed { .. } => "failed",
    }
}

/// Who ended the call and why, as `GET /v1/calls/{id}` reports it (`hangup`): the bot's
/// reason when it hung up, else `failed` for a failed call and `caller` otherwise (the caller
/// or the platform closed the stream).
pub fn hangup_name(bot: Option<&HangupReason>, status: &EndStatus) -> &'static str {
    match (bot, status) {
        (Some(HangupReason::EndOfConversation), _) => "end-of-conversation",
        (Some(HangupReason::LiveAgentHandoff), _) => "live-agent-handoff",
        (Some(HangupReason::Paused), _) => "paused",
        (Some(HangupReason::NoInput), _) => "no-input",
        (Some(HangupReason::MaxDuration), _) => "max-duration",
        (Some(HangupReason::Failed), _) | (None, EndStatus::Failed { .. }) => "failed",
        (None, _) => "caller",
    }
}

/// Handles one session event (never blocks).
pub(crate) fn on_event(d: &mut Driver, ev: CallEvent) {
    let phone = d.phone.clone();
    let info = &d.setup.info;
    match ev {
        CallEvent::IntentMatched { result, .. } => {
            d.book.last_query_result = result.query_result.clone();
            let sentiment = sentiment_of(&result.query_result);
            let now = phone.clock.now();
            d.setup
                .connector
                .callbacks
                .intent(info, &result, sentiment, now);
        }
        CallEvent::TurnCompleted(rec) => {
            if let Some(ms) = rec.timings.tts_first_audio_ms {
                phone.metrics.observe(Stage::TtsFirstAudio, ms);
            }
            if rec.timings.speech_end_ms.is_some() || rec.timings.nlu_ms > 0 {
                phone.metrics.observe(Stage::NluWebhook, rec.timings.nlu_ms);
            }
            d.book
                .turn_done(&phone, rec.turn, rec.timings.speech_end_ms);
            if !phone.calls.turn(&info.call_id, &d.setup.stream_id, &rec) {
                phone.metrics.dropped("transcripts");
            }
            d.setup.connector.callbacks.analytics(info, &rec);
            phone.console.turn(&info.call_id, &rec);
        }
        CallEvent::BargeIn { turn, .. } => {
            tracing::debug!(call = %info.call_id, turn, "barge-in");
        }
        CallEvent::NoInput { count, .. } => {
            tracing::debug!(call = %info.call_id, count, "no input");
        }
        CallEvent::Warning { turn, message } => {
            tracing::warn!(call = %info.call_id, turn, %message, "call warning");
        }
        CallEvent::SessionEnded { status, state, .. } => {
            d.book.ended = Some((status, state));
        }
    }
}

/// Moves the live call (REST redirect or transfer), bounded by `timeout`.
async fn hand_off(
    phone: &Phone,
    handoff: &super::handoff::Handoff,
    info: &super::callbacks::CallInfo,
    platform: sb_transport::Platform,
    status: &EndStatus,
    query_result: &Value,
    timeout: Duration,
) -> Result<(), MoveError> {
    let mut remembered = false;
    if platform == sb_transport::Platform::Vonage {
        match handoff.vonage_ncco(status) {
            Ok(ncco) => {
                phone.remember_handoff(&info.call_id, ncco);
                remembered = true;
            }
            Err(e) => tracing::warn!(call = %info.call_id, error = %e, "no handoff NCCO"),
        }
    }
    match tokio::time::timeout(timeout, handoff.handoff(info, status, query_result)).await {
        // Without Vonage credentials the stream leg's `disconnected` event moves the call.
        Ok(Err(HandoffError::NotConfigured(_))) if remembered => Ok(()),
        Ok(r) => r.map_err(MoveError::Handoff),
        Err(_) => Err(MoveError::Timeout(timeout.as_secs())),
    }
}

/// Why the platform did not move a handed-off call.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MoveError {
    #[error(transparent)]
    Handoff(HandoffError),
    #[error("no answer from the platform in {0} s")]
    Timeout(u64),
}

/// End of call: pause, handoff or transfer, transcript status, `action` callback, metrics.
/// The call record's `hangup` is `transferred` after a `telephonyTransferCall`, and
/// `handoff-failed` (with the reason in `error`) when the platform did not move the call.
///
/// A Twilio call started by our TwiML is moved by the answer to its `<Connect action>` request
/// instead (`super::action`): its ending is left there, and neither the REST call update nor
/// the `action` callback happens here.
pub(crate) async fn finish(d: &mut Driver, handoff_timeout: Duration) {
    let phone = d.phone.clone();
    let info = d.setup.info.clone();
    let (status, state) = match d.book.ended.take() {
        Some(e) => e,
        None => (
            EndStatus::Failed {
                error: "the call ended before its session did".into(),
            },
            Box::default(),
        ),
    };
    let outcome = outcome_name(&status);
    let mut error = match &status {
        EndStatus::Failed { error } => Some(error.clone()),
        _ => None,
    };
    if let EndStatus::Paused { .. } = &status {
        let now = phone.clock.now().timestamp_millis();
        let transcript = phone
            .calls
            .get(&info.call_id)
            .await
            .ok()
            .flatten()
            .unwrap_or(Value::Null);
        if let Err(e) = phone
            .paused
            .save(
                &super::start::paused_key(&info.call_id, &info.end_user_id),
                &state,
                &transcript,
                now,
            )
            .await
        {
            tracing::error!(call = %info.call_id, error = %e, "cannot save the paused session");
        }
    }
    let mut hangup = hangup_name(d.hangup.as_ref(), &status);
    let connector = d.setup.connector.clone();
    let query_result = std::mem::take(&mut d.book.last_query_result);
    let moves = match d.hangup {
        Some(HangupReason::LiveAgentHandoff) => true,
        Some(HangupReason::EndOfConversation) => {
            d.platform == sb_transport::Platform::Twilio
                && connector.handoff.moves_twilio_call(&status)
        }
        _ => false,
    };
    let target = super::handoff::transfer_target(&status).map(str::to_string);
    if d.setup.action_hop {
        if target.is_some() {
            hangup = "transferred";
        }
        phone.endings.put(
            &info.call_id,
            super::action::Ending {
                info: info.clone(),
                status: status.clone(),
                query_result,
            },
        );
    } else if moves {
        if target.is_some() {
            hangup = "transferred";
        }
        let moved = hand_off(
            &phone,
            &connector.handoff,
            &info,
            d.platform,
            &status,
            &query_result,
            handoff_timeout,
        )
        .await;
        if let Err(e) = moved {
            let what = match &target {
                Some(n) => format!("transfer to {n} failed: {e}"),
                None => format!("handoff failed: {e}"),
            };
            tracing::error!(call = %info.call_id, error = %what, "call not moved");
            phone.metrics.dropped("handoff");
            error = Some(what);
            hangup = "handoff-failed";
        } else if let Some(n) = &target {
            tracing::info!(call = %info.call_id, to = %n, "call transferred");
        } else {
            tracing::info!(call = %info.call_id, "handed off to a live agent");
        }
    }
    if d.book.started {
        phone.console.ended(&info.call_id, &status);
    }
    if !phone.calls.end(&info.call_id, outcome, error, hangup) {
        phone.metrics.dropped("transcripts");
    }
    if d.book.started {
        phone
            .metrics
            .call_ended(transport_name(d.platform), outcome);
    }
    if !d.setup.action_hop {
        d.setup.connector.callbacks.ended(&info, &status);
    }
    tracing::info!(call = %info.call_id, outcome, "call ended");
}
