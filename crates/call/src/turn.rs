//! The bot's side of a turn: query → engine (→ webhook) → synthesis → playback → mark echo.
//! Also prompts that are not engine turns (no-input re-prompts, the no-input goodbye).

use crate::session::CallSession;
use crate::types::*;
use sb_contracts::asr::{AsrFailure, AsrPriority, Transcript};
use sb_nlu::dialog::{PendingTurn, QueryInput, QueryParams, TurnRequest, TurnResult, TurnStep};
use sb_nlu::webhook::WebhookOutcome;
use serde_json::{json, Map, Value};

/// google.rpc DEADLINE_EXCEEDED, for a webhook the driver never answered.
const DEADLINE_EXCEEDED: i32 = 4;

pub(crate) enum Stage {
    Asr,
    Webhook(Box<PendingTurn>),
    /// Synthesising / playing; `mark_sent` once the last chunk went out.
    Speaking,
}

/// A turn in flight.
pub(crate) struct Turn {
    pub id: u64,
    pub stage: Stage,
    /// What the caller gave (`None` for prompts that are not engine turns).
    pub input: Option<TurnInput>,
    pub sentiment: Option<(f32, f32)>,
    pub result: Option<TurnResult>,
    pub timings: TurnTimings,
    /// When the query was ready for the engine / the engine's answer was ready.
    pub query_at: u64,
    pub nlu_done_at: u64,
    /// What happens once the reply has played.
    pub ending: Option<(EndStatus, HangupReason)>,
    pub interruptible: bool,
    pub audio_sent: bool,
    pub mark_sent: bool,
    /// Estimated end of playback of the audio sent so far.
    pub play_end_ms: u64,
    /// Give-up time for the current stage (or the mark echo).
    pub deadline: Option<u64>,
    /// Recognition started at a pause of an utterance that is still open (early.rs).
    pub tentative: bool,
    /// A tentative turn's result, kept until the utterance ends.
    pub held: Option<Result<Transcript, AsrFailure>>,
    /// The whole utterance, kept when its end came while the tentative recognition was still
    /// running: heard again if that recognition fails (or was stopped) or reads unfinished.
    pub whole: Option<(u64, Vec<i16>)>,
}

impl Turn {
    fn new(id: u64, stage: Stage, at: u64) -> Self {
        Turn {
            id,
            stage,
            input: None,
            sentiment: None,
            result: None,
            timings: TurnTimings::default(),
            query_at: at,
            nlu_done_at: at,
            ending: None,
            interruptible: true,
            audio_sent: false,
            mark_sent: false,
            play_end_ms: at,
            deadline: None,
            tentative: false,
            held: None,
            whole: None,
        }
    }
}

/// The mark that follows the last audio of `turn`.
pub fn end_mark(turn: u64) -> String {
    format!("turn-{turn}-end")
}

impl CallSession {
    fn new_turn_id(&mut self) -> u64 {
        let id = self.next_turn;
        self.next_turn += 1;
        id
    }

    fn work_deadline(&self, at: u64) -> Option<u64> {
        Some(at.saturating_add(u64::from(self.cfg.work_timeout_ms)))
    }

    // ---- starting turns ----------------------------------------------------------------------

    /// Speech ended at `speech_end` (true end of speech): recognise it, as the utterance's end
    /// or as a guess at a pause.
    pub(crate) fn speech_turn(
        &mut self,
        at: u64,
        speech_end: u64,
        pcm: Vec<i16>,
        priority: AsrPriority,
    ) {
        let id = self.new_turn_id();
        let mut t = Turn::new(id, Stage::Asr, at);
        t.timings.speech_end_ms = Some(speech_end);
        t.deadline = self.work_deadline(at);
        self.turn = Some(t);
        self.out.push_back(Output::Asr {
            turn: id,
            pcm16k: pcm,
            prompt: None,
            priority,
        });
    }

    pub(crate) fn event_turn(&mut self, at: u64, name: String) {
        let id = self.new_turn_id();
        let mut t = Turn::new(id, Stage::Speaking, at);
        t.input = Some(TurnInput::Event { name: name.clone() });
        self.turn = Some(t);
        let query = QueryInput::Event {
            name,
            parameters: Map::new(),
            language_code: self.cfg.language.clone(),
        };
        self.query(at, query, None);
    }

    /// A finished DTMF entry (last key at `last_key`) goes to the engine as text.
    pub(crate) fn dtmf_turn(&mut self, at: u64, last_key: u64, digits: String) {
        self.no_input_count = 0;
        let id = self.new_turn_id();
        let mut t = Turn::new(id, Stage::Speaking, at);
        t.timings.speech_end_ms = Some(last_key);
        t.input = Some(TurnInput::Dtmf {
            digits: digits.clone(),
        });
        self.turn = Some(t);
        let query = QueryInput::Text {
            text: digits,
            language_code: self.cfg.language.clone(),
        };
        self.query(at, query, None);
    }

    pub(crate) fn on_asr(&mut self, at: u64, id: u64, result: Result<Transcript, AsrFailure>) {
        let Some(t) = self.turn.as_mut().filter(|t| t.id == id) else {
            return;
        };
        if !matches!(t.stage, Stage::Asr) {
            return;
        }
        t.timings.asr_ms = t.timings.speech_end_ms.map(|e| at.saturating_sub(e));
        if t.tentative {
            return self.on_early_asr(at, result);
        }
        if let Some((end_ms, pcm)) = t.whole.take() {
            if !matches!(&result, Ok(tr) if crate::early::sounds_complete(&tr.text, &self.cfg.dangling_words))
            {
                self.turn = None;
                return self.speech_turn(at, end_ms, pcm, AsrPriority::Final);
            }
        }
        self.recognised(at, result);
    }

    /// The turn's transcript is final: to the engine (or back to listening if empty).
    pub(crate) fn recognised(&mut self, at: u64, result: Result<Transcript, AsrFailure>) {
        let Some(id) = self.turn.as_ref().map(|t| t.id) else {
            return;
        };
        let tr = match result {
            Ok(tr) if !tr.text.trim().is_empty() => tr,
            Ok(_) => return self.listen(at), // nothing recognisable: keep listening
            Err(e) => {
                self.out.push_back(Output::Event(CallEvent::Warning {
                    turn: id,
                    message: format!("ASR failed: {e}"),
                }));
                return self.listen(at);
            }
        };
        self.no_input_count = 0;
        let text = tr.text.trim().to_string();
        let sentiment = match (&self.sentiment, self.cfg.sentiment) {
            (Some(s), true) => {
                let sc = s.analyze(&text);
                Some((sc.score, sc.magnitude))
            }
            _ => None,
        };
        if let Some(t) = self.turn.as_mut() {
            t.stage = Stage::Speaking;
            t.query_at = at;
            t.sentiment = sentiment;
            t.input = Some(TurnInput::Speech {
                text: text.clone(),
                confidence: tr.confidence,
            });
        }
        let query = QueryInput::Text {
            text,
            language_code: self.cfg.language.clone(),
        };
        self.query(at, query, Some(tr.confidence));
    }

    // ---- the engine --------------------------------------------------------------------------

    fn query(&mut self, at: u64, input: QueryInput, confidence: Option<f32>) {
        let req = self.request(at, input, confidence);
        self.params_pending = false;
        let step = self.engine.begin(&mut self.state, req);
        self.on_step(at, step);
    }

    /// The engine request for `input` at `at` (the call's session parameters go with the first).
    pub(crate) fn request(
        &self,
        at: u64,
        input: QueryInput,
        confidence: Option<f32>,
    ) -> TurnRequest {
        let params = QueryParams {
            time_zone: self.cfg.time_zone.clone(),
            session_params: if self.params_pending {
                self.cfg.session_params.clone()
            } else {
                Map::new()
            },
            ..QueryParams::default()
        };
        TurnRequest {
            session: self.session_path.clone(),
            input,
            params,
            now: self.utc_at(at),
            sentiment: self.turn.as_ref().and_then(|t| t.sentiment),
            speech_confidence: confidence,
            source: self.cfg.source.clone(),
        }
    }

    fn on_step(&mut self, at: u64, step: TurnStep) {
        match step {
            TurnStep::Done(result) => self.on_result(at, result),
            TurnStep::Webhook(pending) => {
                let deadline = self.work_deadline(at);
                let Some(t) = self.turn.as_mut() else { return };
                let id = t.id;
                self.out.push_back(Output::Webhook {
                    turn: id,
                    request: Box::new(pending.request.clone()),
                    webhook: Box::new(pending.webhook.clone()),
                });
                t.stage = Stage::Webhook(pending);
                t.deadline = deadline;
            }
        }
    }

    pub(crate) fn on_webhook(&mut self, at: u64, id: u64, outcome: WebhookOutcome) {
        let Some(t) = self.turn.as_mut().filter(|t| t.id == id) else {
            return;
        };
        let Stage::Webhook(_) = t.stage else { return };
        let Stage::Webhook(pending) = std::mem::replace(&mut t.stage, Stage::Speaking) else {
            return;
        };
        t.deadline = None;
        let step = self.engine.resume(&mut self.state, *pending, outcome);
        self.on_step(at, step);
    }

    /// The engine answered: report the match, decide how the call goes on, say the reply.
    fn on_result(&mut self, at: u64, result: TurnResult) {
        let ending = ending_of(&result);
        let reply = crate::reply::phone_reply(&result);
        if ending.is_none() && !reply.is_empty() {
            self.last_prompt = reply.clone();
        }
        let Some(t) = self.turn.as_mut() else { return };
        let id = t.id;
        t.nlu_done_at = at;
        t.timings.nlu_ms = at.saturating_sub(t.query_at);
        t.interruptible = ending.is_none();
        t.ending = ending;
        t.result = Some(result.clone());
        self.out.push_back(Output::Event(CallEvent::IntentMatched {
            turn: id,
            at_ms: at,
            result: Box::new(result),
        }));
        self.say(at, reply);
    }

    // ---- speaking ----------------------------------------------------------------------------

    /// A prompt that is not an engine turn (no-input re-prompt or goodbye).
    pub(crate) fn prompt_turn(
        &mut self,
        at: u64,
        text: String,
        ending: Option<(EndStatus, HangupReason)>,
    ) {
        let id = self.new_turn_id();
        let mut t = Turn::new(id, Stage::Speaking, at);
        t.interruptible = ending.is_none();
        t.ending = ending;
        self.turn = Some(t);
        self.say(at, text);
    }

    fn say(&mut self, at: u64, text: String) {
        if text.is_empty() {
            return self.bot_done(at);
        }
        let deadline = self.work_deadline(at);
        let Some(t) = self.turn.as_mut() else { return };
        t.stage = Stage::Speaking;
        t.deadline = deadline;
        let turn = t.id;
        self.out.push_back(Output::Synthesize { turn, text });
    }

    pub(crate) fn on_tts(&mut self, at: u64, id: u64, pcm: Vec<i16>, last: bool) {
        let work = self.work_deadline(at);
        let grace = u64::from(self.cfg.mark_grace_ms);
        let Some(t) = self.turn.as_mut().filter(|t| t.id == id) else {
            return;
        }; // late chunk of a cancelled turn
        if !matches!(t.stage, Stage::Speaking) || t.mark_sent {
            return;
        }
        if !pcm.is_empty() {
            if !t.audio_sent {
                t.audio_sent = true;
                t.timings.tts_first_audio_ms = Some(at.saturating_sub(t.nlu_done_at));
                t.timings.reply_latency_ms = t.timings.speech_end_ms.map(|e| at.saturating_sub(e));
            }
            t.play_end_ms = t.play_end_ms.max(at).saturating_add(pcm.len() as u64 / 16);
            self.out.push_back(Output::PlayAudio {
                turn: id,
                pcm16k: pcm,
            });
        }
        if !last {
            t.deadline = work;
        } else if t.audio_sent {
            t.mark_sent = true;
            t.deadline = Some(t.play_end_ms.max(at).saturating_add(grace));
            self.out.push_back(Output::Mark(end_mark(id)));
        } else {
            self.bot_done(at);
        }
    }

    pub(crate) fn on_tts_failed(&mut self, at: u64, id: u64, error: String) {
        let Some(t) = self.turn.as_mut().filter(|t| t.id == id) else {
            return;
        };
        if !matches!(t.stage, Stage::Speaking) || t.mark_sent {
            return;
        }
        self.out.push_back(Output::Event(CallEvent::Warning {
            turn: id,
            message: format!("TTS failed: {error}"),
        }));
        self.on_tts(at, id, Vec::new(), true); // play what arrived, then carry on
    }

    pub(crate) fn on_mark(&mut self, at: u64, name: &str) {
        if self
            .turn
            .as_ref()
            .is_some_and(|t| t.mark_sent && name == end_mark(t.id))
        {
            self.bot_done(at);
        }
    }

    /// The turn's reply has played (or there was none): end the call or listen.
    fn bot_done(&mut self, at: u64) {
        let Some(mut t) = self.turn.take() else {
            return;
        };
        let ending = t.ending.take();
        self.emit_record(t, false);
        match ending {
            Some((status, reason)) => self.end(at, status, Some(reason)),
            None => self.listen(at),
        }
    }

    /// The caller interrupted the turn in flight: stop its audio and forget its late results.
    pub(crate) fn barge_in(&mut self, at: u64) {
        let Some(t) = self.turn.take() else { return };
        if t.audio_sent {
            self.out.push_back(Output::ClearPlayback);
        }
        self.out.push_back(Output::Event(CallEvent::BargeIn {
            turn: t.id,
            at_ms: at,
        }));
        self.emit_record(t, true);
        self.no_input_at = None;
    }

    /// A stage took longer than `work_timeout_ms` (or a mark never came back).
    pub(crate) fn turn_timeout(&mut self, at: u64) {
        let Some(t) = self.turn.as_mut() else { return };
        t.deadline = None;
        let id = t.id;
        match &t.stage {
            Stage::Asr => {
                self.warn(id, "ASR result timed out");
                self.listen(at);
            }
            Stage::Webhook(_) => {
                let outcome = WebhookOutcome::Failed {
                    code: DEADLINE_EXCEEDED,
                    message: "Webhook call failed. Error: DEADLINE_EXCEEDED.".into(),
                };
                self.on_webhook(at, id, outcome);
            }
            Stage::Speaking if t.mark_sent => self.bot_done(at), // mark lost: assume played
            Stage::Speaking => self.on_tts_failed(at, id, "timed out".into()),
        }
    }

    fn warn(&mut self, turn: u64, message: &str) {
        self.out.push_back(Output::Event(CallEvent::Warning {
            turn,
            message: message.into(),
        }));
    }

    pub(crate) fn on_no_input(&mut self, at: u64) {
        self.no_input_count += 1;
        let count = self.no_input_count;
        self.out
            .push_back(Output::Event(CallEvent::NoInput { count, at_ms: at }));
        if count > self.cfg.max_no_input {
            let bye = self.cfg.goodbye_prompt.trim().to_string();
            self.prompt_turn(at, bye, Some((EndStatus::Completed, HangupReason::NoInput)));
        } else {
            let text = crate::reply::join(&self.cfg.no_input_prompt, &self.last_prompt);
            self.prompt_turn(at, text, None);
        }
    }

    /// `TurnCompleted` for engine turns (prompts that are not engine turns have no record).
    pub(crate) fn emit_record(&mut self, t: Turn, interrupted: bool) {
        let (Some(input), Some(r)) = (t.input, t.result) else {
            return;
        };
        let rec = TurnRecord {
            turn: t.id,
            input,
            intent: r.intent_name,
            confidence: r.confidence,
            parameters: r.parameters,
            all_required_params_present: r.all_required_params_present,
            bot_text: r.reply_text,
            sentiment: t.sentiment,
            timings: t.timings,
            query_result: r.query_result,
            interrupted,
        };
        self.out
            .push_back(Output::Event(CallEvent::TurnCompleted(Box::new(rec))));
    }
}

/// What the call does after the reply: handoff wins over pause, pause over end.
fn ending_of(r: &TurnResult) -> Option<(EndStatus, HangupReason)> {
    let c = &r.control;
    if c.live_agent_handoff.is_some() || c.transfer_to.is_some() {
        let params = c.live_agent_handoff.clone().unwrap_or_else(|| json!({}));
        let status = EndStatus::LiveAgentHandoff {
            params,
            transfer_to: c.transfer_to.clone(),
        };
        return Some((status, HangupReason::LiveAgentHandoff));
    }
    if let Some(p) = &c.pause {
        let params: Map<String, Value> = p.clone();
        return Some((EndStatus::Paused { params }, HangupReason::Paused));
    }
    c.end_interaction
        .then_some((EndStatus::Completed, HangupReason::EndOfConversation))
}
