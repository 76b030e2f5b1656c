//! The turn: one state machine for who holds the floor, read top to bottom.
//!
//! ```text
//!             ┌──────────── no-input re-prompt / goodbye ◄── deadline ──┐
//!             ▼                                                          │
//! Speaking ─► Finishing ─(mark echo)─► Listening ─(utterance ends)─► Recognising
//!   ▲                                   │    ▲                             │ AsrResult
//!   │                                   │    └──(caller goes on)──┐      ▼
//!   │                                   └─(pause)─► Guessing ─────┴─► engine turn
//!   │                                                                      │
//!   └───────────── Synthesize ◄─ [Fulfilling: Webhook ─► WebhookResult] ◄──┘
//! ```
//!
//! * **Listening**: the bot is quiet; the no-input deadline runs unless the caller is speaking
//!   or keying an entry.
//! * **Guessing**: an utterance paused; what was said so far is being recognised. Its result is
//!   judged in one place ([`crate::early`]): the turn may be taken at the pause.
//! * **Recognising**: a whole utterance is being recognised.
//! * **Fulfilling**: the engine waits for its webhook.
//! * **Speaking**: synthesising and playing the reply; **Finishing**: its last audio went out
//!   with the end mark, waiting for the platform's echo.
//!
//! Each state has at most one deadline ([`Turn::poll_timeout`]); what happens when it passes is
//! [`CallSession::turn_timeout`]. Caller speech or keys interrupt the bot's turn (barge-in)
//! when it allows; results for a turn that is no longer current are dropped.

use crate::early::{guess_priority, Verdict};
use crate::listen::Heard;
use crate::session::CallSession;
use crate::types::*;
use sb_contracts::asr::{AsrFailure, AsrPriority, Transcript};
use sb_nlu::dialog::{PendingTurn, QueryInput, TurnResult, TurnStep};
use sb_nlu::webhook::WebhookOutcome;

/// google.rpc DEADLINE_EXCEEDED, for a webhook the driver never answered.
const DEADLINE_EXCEEDED: i32 = 4;

type AsrOutcome = Result<Transcript, AsrFailure>;

/// Who holds the floor, and what each state needs.
pub(crate) enum Turn {
    Listening {
        no_input_at: Option<u64>,
    },
    Guessing(Guess),
    Recognising(Recognition),
    Fulfilling {
        bot: BotTurn,
        pending: Box<PendingTurn>,
        deadline: u64,
    },
    Speaking {
        bot: BotTurn,
        deadline: u64,
        /// Some reply audio went out.
        audio_sent: bool,
        /// Estimated end of playback of the audio sent so far.
        play_end_ms: u64,
    },
    Finishing {
        bot: BotTurn,
        deadline: u64,
    },
}

/// A recognition of the audio up to a pause of an utterance that is still open.
pub(crate) struct Guess {
    id: u64,
    speech_end_ms: u64,
    asked_at: u64,
    deadline: u64,
    asr_ms: Option<u64>,
    /// Its result and verdict, kept until the utterance ends (it did not make a whole turn).
    held: Option<(AsrOutcome, Verdict)>,
}

/// A recognition whose result is the caller's turn.
pub(crate) struct Recognition {
    id: u64,
    speech_end_ms: u64,
    asked_at: u64,
    deadline: u64,
    /// The guess whose result is awaited here: the whole utterance, heard again if the guess
    /// fails or reads unfinished.
    retry: Option<Vec<i16>>,
}

/// A bot turn once its query is ready: an engine turn (caller speech, keys, an event) or a
/// prompt that is not one (no-input re-prompt, goodbye).
pub(crate) struct BotTurn {
    pub id: u64,
    /// When the turn began (the recognition request, the keys, the event).
    pub started_at: u64,
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
}

impl BotTurn {
    fn new(id: u64, at: u64) -> Self {
        BotTurn {
            id,
            started_at: at,
            input: None,
            sentiment: None,
            result: None,
            timings: TurnTimings::default(),
            query_at: at,
            nlu_done_at: at,
            ending: None,
            interruptible: true,
        }
    }
}

impl Turn {
    /// The id of the bot's turn in flight (`None` while listening).
    pub fn id(&self) -> Option<u64> {
        match self {
            Turn::Listening { .. } => None,
            Turn::Guessing(g) => Some(g.id),
            Turn::Recognising(r) => Some(r.id),
            Turn::Fulfilling { bot, .. }
            | Turn::Speaking { bot, .. }
            | Turn::Finishing { bot, .. } => Some(bot.id),
        }
    }

    pub fn is_listening(&self) -> bool {
        matches!(self, Turn::Listening { .. })
    }

    /// The state's one deadline: the no-input re-prompt, or giving up on the work in flight.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self {
            Turn::Listening { no_input_at } => *no_input_at,
            Turn::Guessing(g) => Some(g.deadline),
            Turn::Recognising(r) => Some(r.deadline),
            Turn::Fulfilling { deadline, .. }
            | Turn::Speaking { deadline, .. }
            | Turn::Finishing { deadline, .. } => Some(*deadline),
        }
    }

    /// Whether the turn lets the caller interrupt it (an ending reply does not).
    fn interruptible(&self) -> bool {
        match self {
            Turn::Listening { .. } => false,
            Turn::Guessing(_) | Turn::Recognising(_) => true,
            Turn::Fulfilling { bot, .. }
            | Turn::Speaking { bot, .. }
            | Turn::Finishing { bot, .. } => bot.interruptible,
        }
    }

    /// Ends the turn where it is (the call ends): the bot's turn, if it was one.
    pub fn finish(&mut self) -> Option<BotTurn> {
        match std::mem::replace(self, Turn::Listening { no_input_at: None }) {
            Turn::Fulfilling { bot, .. }
            | Turn::Speaking { bot, .. }
            | Turn::Finishing { bot, .. } => Some(bot),
            _ => None,
        }
    }

    /// What happens once the reply has played, if the turn is the bot's.
    pub fn ending(&self) -> Option<&(EndStatus, HangupReason)> {
        match self {
            Turn::Fulfilling { bot, .. }
            | Turn::Speaking { bot, .. }
            | Turn::Finishing { bot, .. } => bot.ending.as_ref(),
            _ => None,
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

    fn work_deadline(&self, at: u64) -> u64 {
        at.saturating_add(u64::from(self.cfg.work_timeout_ms))
    }

    fn take_turn(&mut self) -> Turn {
        std::mem::replace(&mut self.turn, Turn::Listening { no_input_at: None })
    }

    // ---- listening ---------------------------------------------------------------------------

    /// The bot is quiet: wait for the caller (no-input deadline unless keys are being entered).
    pub(crate) fn listen(&mut self, at: u64) {
        let no_input_at = (!self.dtmf.is_collecting())
            .then(|| at.saturating_add(u64::from(self.cfg.no_input_timeout_ms)));
        self.turn = Turn::Listening { no_input_at };
    }

    /// What the listener heard, at input time `at`.
    pub(crate) fn on_heard(&mut self, at: u64, h: Heard) {
        match h {
            Heard::Started { .. } => {
                if self.turn.is_listening() {
                    // The caller's turn: no re-prompt while they speak.
                    self.listener.claim();
                    self.turn = Turn::Listening { no_input_at: None };
                }
            }
            Heard::Sustained { at_ms } => {
                if !self.listener.claimed() && self.interruptible() {
                    self.barge_in(at_ms);
                    self.listener.claim();
                }
            }
            Heard::Paused {
                end_ms, pcm, late, ..
            } => self.on_pause(at, end_ms, pcm, late),
            Heard::Resumed => self.on_resumed(),
            Heard::Ended {
                end_ms,
                pcm,
                claimed,
                ..
            } => self.on_utterance_end(at, end_ms, pcm, claimed),
        }
    }

    /// Whether caller input may interrupt the turn now.
    fn interruptible(&self) -> bool {
        self.cfg.barge_in && self.turn.interruptible()
    }

    /// The open utterance paused after speech that ended at `end_ms`: guess what was said.
    fn on_pause(&mut self, at: u64, end_ms: u64, pcm: Vec<i16>, late: bool) {
        if !self.listener.claimed() || !self.is_live() {
            return;
        }
        // The late report of a pause is for a guess the driver skipped at the first report.
        let guess = match &self.turn {
            Turn::Listening { .. } => true,
            Turn::Guessing(_) => !late,
            _ => false,
        };
        if guess {
            self.recognise(at, end_ms, pcm, guess_priority(late));
        }
    }

    /// The caller went on after the pause: the guess is stale, its recognition (if still
    /// running) is cancelled so the whole utterance's gets the CPU.
    fn on_resumed(&mut self) {
        if let Turn::Guessing(g) = &self.turn {
            if g.held.is_none() {
                self.out.push_back(Output::CancelAsr { turn: g.id });
            }
            self.turn = Turn::Listening { no_input_at: None };
        }
    }

    /// The utterance ended at `end_ms`; `claimed`: it was the caller's turn.
    fn on_utterance_end(&mut self, at: u64, end_ms: u64, pcm: Vec<i16>, claimed: bool) {
        if let Turn::Guessing(g) = &mut self.turn {
            let same_speech = g.speech_end_ms == end_ms;
            match g.held.take() {
                // No speech since the pause, and the guess reads finished: it is the turn.
                Some((result, Verdict::Finished | Verdict::Whole)) if same_speech => {
                    let (id, asked_at, asr_ms) = (g.id, g.asked_at, g.asr_ms);
                    let timings = TurnTimings {
                        speech_end_ms: Some(end_ms),
                        asr_ms,
                        ..TurnTimings::default()
                    };
                    return self.recognised(at, id, asked_at, timings, result);
                }
                // Still running: await it, keeping the whole utterance in case it fails.
                None if same_speech => {
                    self.turn = Turn::Recognising(Recognition {
                        id: g.id,
                        speech_end_ms: end_ms,
                        asked_at: g.asked_at,
                        deadline: g.deadline,
                        retry: Some(pcm),
                    });
                    return;
                }
                // Cut short by the pause, or the caller went on: hear the whole utterance.
                _ => self.turn = Turn::Listening { no_input_at: None },
            }
        }
        match self.turn {
            Turn::Listening { .. } if claimed && self.is_live() => {
                self.recognise(at, end_ms, pcm, AsrPriority::Final);
            }
            Turn::Listening { no_input_at: None } => {
                // A discarded sound (cough during the prompt) while listening: keep waiting.
                self.turn = Turn::Listening {
                    no_input_at: Some(at.saturating_add(u64::from(self.cfg.no_input_timeout_ms))),
                };
            }
            _ => {}
        }
    }

    /// Asks for the recognition of speech that ended at `speech_end` (true end of speech): the
    /// utterance's end ([`AsrPriority::Final`]) or a guess at a pause.
    fn recognise(&mut self, at: u64, speech_end: u64, pcm: Vec<i16>, priority: AsrPriority) {
        let id = self.new_turn_id();
        let deadline = self.work_deadline(at);
        self.turn = if priority == AsrPriority::Final {
            Turn::Recognising(Recognition {
                id,
                speech_end_ms: speech_end,
                asked_at: at,
                deadline,
                retry: None,
            })
        } else {
            Turn::Guessing(Guess {
                id,
                speech_end_ms: speech_end,
                asked_at: at,
                deadline,
                asr_ms: None,
                held: None,
            })
        };
        self.out.push_back(Output::Asr {
            turn: id,
            pcm16k: pcm,
            prompt: None,
            priority,
        });
    }

    /// The driver skipped a guess's recognition: the end of speech recognises the whole
    /// utterance, as when the caller goes on.
    pub(crate) fn on_asr_skipped(&mut self, id: u64) {
        if matches!(&self.turn, Turn::Guessing(g) if g.id == id) {
            self.turn = Turn::Listening { no_input_at: None };
        }
    }

    pub(crate) fn on_asr(&mut self, at: u64, id: u64, result: AsrOutcome) {
        if self.turn.id() != Some(id) {
            return;
        }
        match self.take_turn() {
            Turn::Guessing(mut g) => {
                g.asr_ms = Some(at.saturating_sub(g.speech_end_ms));
                if self.listener.last_speech_end_ms() != Some(g.speech_end_ms) {
                    return; // the caller went on: the pause was not the end
                }
                match self.judge(at, &result, true) {
                    Verdict::Whole => {
                        // The pause ends the utterance: speech after it is a new one.
                        self.listener.commit();
                        let timings = TurnTimings {
                            speech_end_ms: Some(g.speech_end_ms),
                            asr_ms: g.asr_ms,
                            ..TurnTimings::default()
                        };
                        self.recognised(at, g.id, g.asked_at, timings, result);
                    }
                    verdict => {
                        g.held = Some((result, verdict));
                        self.turn = Turn::Guessing(g);
                    }
                }
            }
            Turn::Recognising(mut r) => {
                if let Some(pcm) = r.retry.take() {
                    if self.judge(at, &result, false) == Verdict::Cut {
                        return self.recognise(at, r.speech_end_ms, pcm, AsrPriority::Final);
                    }
                }
                let timings = TurnTimings {
                    speech_end_ms: Some(r.speech_end_ms),
                    asr_ms: Some(at.saturating_sub(r.speech_end_ms)),
                    ..TurnTimings::default()
                };
                self.recognised(at, r.id, r.asked_at, timings, result);
            }
            other => self.turn = other, // a bot turn with the same id: not waiting for ASR
        }
    }

    /// The turn's transcript is final: to the engine (or back to listening if empty).
    fn recognised(
        &mut self,
        at: u64,
        id: u64,
        asked_at: u64,
        timings: TurnTimings,
        result: AsrOutcome,
    ) {
        let tr = match result {
            Ok(tr) if !tr.text.trim().is_empty() => tr,
            Ok(_) => return self.listen(at), // nothing recognisable: keep listening
            Err(e) => {
                self.warn(id, &format!("ASR failed: {e}"));
                return self.listen(at);
            }
        };
        self.no_input_count = 0;
        let text = tr.text.trim().to_string();
        let mut bot = BotTurn::new(id, asked_at);
        bot.timings = timings;
        bot.query_at = at;
        bot.sentiment = self.sentiment_of(&text);
        bot.input = Some(TurnInput::Speech {
            text: text.clone(),
            confidence: tr.confidence,
        });
        let query = QueryInput::Text {
            text,
            language_code: self.cfg.language.clone(),
        };
        self.query(at, bot, query, Some(tr.confidence));
    }

    // ---- keys --------------------------------------------------------------------------------

    pub(crate) fn on_dtmf(&mut self, at: u64, digit: char) {
        if matches!(self.turn, Turn::Guessing(_)) {
            self.turn = Turn::Listening { no_input_at: None }; // keys in a pause: they are the turn
        }
        if !self.turn.is_listening() {
            if !self.interruptible() {
                return; // keys during a prompt that can't be interrupted are dropped
            }
            self.barge_in(at);
        }
        self.turn = Turn::Listening { no_input_at: None };
        let (term, gap) = (self.cfg.dtmf_terminator, self.cfg.dtmf_inter_digit_ms);
        if let Some(digits) = self.dtmf.key(digit, at, term, gap) {
            self.dtmf_turn(at, at, digits);
        } else if !self.dtmf.is_collecting() {
            self.listen(at); // a lone terminator or junk key: keep waiting
        }
    }

    /// A finished DTMF entry (last key at `last_key`) goes to the engine as text.
    pub(crate) fn dtmf_turn(&mut self, at: u64, last_key: u64, digits: String) {
        self.no_input_count = 0;
        let mut bot = BotTurn::new(self.new_turn_id(), at);
        bot.timings.speech_end_ms = Some(last_key);
        bot.input = Some(TurnInput::Dtmf {
            digits: digits.clone(),
        });
        let query = QueryInput::Text {
            text: digits,
            language_code: self.cfg.language.clone(),
        };
        self.query(at, bot, query, None);
    }

    // ---- the engine --------------------------------------------------------------------------

    pub(crate) fn event_turn(&mut self, at: u64, name: String) {
        let mut bot = BotTurn::new(self.new_turn_id(), at);
        bot.input = Some(TurnInput::Event { name: name.clone() });
        let query = QueryInput::Event {
            name,
            parameters: Default::default(),
            language_code: self.cfg.language.clone(),
        };
        self.query(at, bot, query, None);
    }

    fn query(&mut self, at: u64, bot: BotTurn, input: QueryInput, confidence: Option<f32>) {
        let req = self.request(at, input, confidence, bot.sentiment);
        self.params_pending = false;
        let step = self.engine.begin(&mut self.state, req);
        self.on_step(at, bot, step);
    }

    fn on_step(&mut self, at: u64, bot: BotTurn, step: TurnStep) {
        match step {
            TurnStep::Done(result) => self.on_result(at, bot, result),
            TurnStep::Webhook(pending) => {
                self.out.push_back(Output::Webhook {
                    turn: bot.id,
                    request: Box::new(pending.request.clone()),
                    webhook: Box::new(pending.webhook.clone()),
                });
                let deadline = self.work_deadline(at);
                self.turn = Turn::Fulfilling {
                    bot,
                    pending,
                    deadline,
                };
            }
        }
    }

    pub(crate) fn on_webhook(&mut self, at: u64, id: u64, outcome: WebhookOutcome) {
        if !matches!(&self.turn, Turn::Fulfilling { bot, .. } if bot.id == id) {
            return;
        }
        let Turn::Fulfilling { bot, pending, .. } = self.take_turn() else {
            return;
        };
        let step = self.engine.resume(&mut self.state, *pending, outcome);
        self.on_step(at, bot, step);
    }

    /// The engine answered: report the match, decide how the call goes on, say the reply.
    fn on_result(&mut self, at: u64, mut bot: BotTurn, result: TurnResult) {
        let ending = crate::record::ending_of(&result);
        let reply = crate::reply::phone_reply(&result);
        if ending.is_none() && !reply.is_empty() {
            self.last_prompt = reply.clone();
        }
        bot.nlu_done_at = at;
        bot.timings.nlu_ms = at.saturating_sub(bot.query_at);
        bot.interruptible = ending.is_none();
        bot.ending = ending;
        bot.result = Some(result.clone());
        self.out.push_back(Output::Event(CallEvent::IntentMatched {
            turn: bot.id,
            at_ms: at,
            result: Box::new(result),
        }));
        self.say(at, bot, reply);
    }

    // ---- speaking ----------------------------------------------------------------------------

    /// A prompt that is not an engine turn (no-input re-prompt or goodbye).
    fn prompt_turn(&mut self, at: u64, text: String, ending: Option<(EndStatus, HangupReason)>) {
        let mut bot = BotTurn::new(self.new_turn_id(), at);
        bot.interruptible = ending.is_none();
        bot.ending = ending;
        self.say(at, bot, text);
    }

    fn say(&mut self, at: u64, bot: BotTurn, text: String) {
        if text.is_empty() {
            return self.bot_done(at, bot);
        }
        self.out
            .push_back(Output::Synthesize { turn: bot.id, text });
        self.turn = Turn::Speaking {
            deadline: self.work_deadline(at),
            audio_sent: false,
            play_end_ms: bot.started_at,
            bot,
        };
    }

    pub(crate) fn on_tts(&mut self, at: u64, id: u64, pcm: Vec<i16>, last: bool) {
        let work = self.work_deadline(at);
        let Turn::Speaking {
            bot,
            deadline,
            audio_sent,
            play_end_ms,
        } = &mut self.turn
        else {
            return; // a late chunk of a turn that was interrupted or has finished
        };
        if bot.id != id {
            return;
        }
        if !pcm.is_empty() {
            if !*audio_sent {
                *audio_sent = true;
                bot.timings.tts_first_audio_ms = Some(at.saturating_sub(bot.nlu_done_at));
                bot.timings.reply_latency_ms =
                    bot.timings.speech_end_ms.map(|e| at.saturating_sub(e));
            }
            *play_end_ms = (*play_end_ms).max(at).saturating_add(pcm.len() as u64 / 16);
            self.out.push_back(Output::PlayAudio {
                turn: id,
                pcm16k: pcm,
            });
        }
        if !last {
            *deadline = work;
            return;
        }
        let (sent, play_end) = (*audio_sent, *play_end_ms);
        let Turn::Speaking { bot, .. } = self.take_turn() else {
            return;
        };
        if sent {
            let grace = u64::from(self.cfg.mark_grace_ms);
            self.out.push_back(Output::Mark(end_mark(id)));
            self.turn = Turn::Finishing {
                bot,
                deadline: play_end.max(at).saturating_add(grace),
            };
        } else {
            self.bot_done(at, bot);
        }
    }

    pub(crate) fn on_tts_failed(&mut self, at: u64, id: u64, error: String) {
        if !matches!(&self.turn, Turn::Speaking { bot, .. } if bot.id == id) {
            return;
        }
        self.warn(id, &format!("TTS failed: {error}"));
        self.on_tts(at, id, Vec::new(), true); // play what arrived, then carry on
    }

    pub(crate) fn on_mark(&mut self, at: u64, name: &str) {
        if !matches!(&self.turn, Turn::Finishing { bot, .. } if name == end_mark(bot.id)) {
            return;
        }
        if let Turn::Finishing { bot, .. } = self.take_turn() {
            self.bot_done(at, bot);
        }
    }

    /// The turn's reply has played (or there was none): end the call or listen.
    fn bot_done(&mut self, at: u64, mut bot: BotTurn) {
        let ending = bot.ending.take();
        self.emit_record(bot, false);
        match ending {
            Some((status, reason)) => self.end(at, status, Some(reason)),
            None => self.listen(at),
        }
    }

    /// The caller interrupted the turn in flight: stop its audio and forget its late results.
    pub(crate) fn barge_in(&mut self, at: u64) {
        let Some(id) = self.turn.id() else { return };
        let (audio_sent, bot) = match self.take_turn() {
            Turn::Speaking {
                audio_sent, bot, ..
            } => (audio_sent, Some(bot)),
            Turn::Finishing { bot, .. } => (true, Some(bot)),
            Turn::Fulfilling { bot, .. } => (false, Some(bot)),
            _ => (false, None),
        };
        if audio_sent {
            self.out.push_back(Output::ClearPlayback);
        }
        self.out.push_back(Output::Event(CallEvent::BargeIn {
            turn: id,
            at_ms: at,
        }));
        if let Some(bot) = bot {
            self.emit_record(bot, true);
        }
    }

    // ---- deadlines ---------------------------------------------------------------------------

    /// The turn's deadline passed at `now` (see [`Turn::poll_timeout`]).
    pub(crate) fn turn_timeout(&mut self, now: u64) {
        match self.take_turn() {
            Turn::Listening { .. } => self.on_no_input(now),
            Turn::Guessing(Guess { id, .. }) | Turn::Recognising(Recognition { id, .. }) => {
                self.warn(id, "ASR result timed out");
                self.listen(now);
            }
            t @ Turn::Fulfilling { .. } => {
                let id = t.id().unwrap_or_default();
                self.turn = t;
                let outcome = WebhookOutcome::Failed {
                    code: DEADLINE_EXCEEDED,
                    message: "Webhook call failed. Error: DEADLINE_EXCEEDED.".into(),
                };
                self.on_webhook(now, id, outcome);
            }
            t @ Turn::Speaking { .. } => {
                let id = t.id().unwrap_or_default();
                self.turn = t;
                self.on_tts_failed(now, id, "timed out".into());
            }
            Turn::Finishing { bot, .. } => self.bot_done(now, bot), // mark lost: assume played
        }
    }

    fn on_no_input(&mut self, at: u64) {
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

    pub(crate) fn warn(&mut self, turn: u64, message: &str) {
        self.out.push_back(Output::Event(CallEvent::Warning {
            turn,
            message: message.into(),
        }));
    }
}
