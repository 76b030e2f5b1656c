//! The driver's half of a virtual call: platform messages into session inputs (media time for
//! audio, now for the rest), session outputs to the scripted providers and to the caller.

use chrono::{TimeZone, Utc};
use sb_call::{AsrFailure, Input, Output};
use sb_nlu::webhook::WebhookOutcome;
use sb_transport::{Inbound, Outbound};

use super::{Got, Pending, Seen, VirtualCall};

impl VirtualCall {
    /// The caller's side sends `ev` over the wire; our side decodes and handles it.
    pub(super) fn caller_send(&mut self, ev: Inbound) {
        if self.closed {
            return;
        }
        let msgs = match self.handset.codec.encode(&ev) {
            Ok(m) => m,
            Err(e) => {
                return self
                    .seen
                    .problems
                    .push(format!("caller cannot encode {ev:?}: {e}"))
            }
        };
        for m in msgs {
            match self.server.decode(m) {
                Ok(events) => events.into_iter().for_each(|e| self.on_inbound(e)),
                Err(e) => self
                    .seen
                    .problems
                    .push(format!("server cannot decode: {e}")),
            }
        }
    }

    /// Caller events queued while handling server output go out once that is done.
    pub(super) fn flush_caller(&mut self) {
        for _ in 0..64 {
            if self.caller_outbox.is_empty() {
                return;
            }
            for ev in std::mem::take(&mut self.caller_outbox) {
                self.caller_send(ev);
            }
        }
    }

    /// What the driver does with a platform event: media time for audio, now for the rest.
    pub(super) fn on_inbound(&mut self, ev: Inbound) {
        let now = self.now;
        match ev {
            Inbound::Start(_) => self.feed(Input::Start {
                at_ms: now,
                utc: Utc.with_ymd_and_hms(2022, 1, 5, 15, 0, 0).unwrap(),
            }),
            Inbound::Audio { pcm16k, at_ms } => self.feed(Input::Audio { at_ms, pcm16k }),
            Inbound::Dtmf { digit, .. } => self.feed(Input::Dtmf { at_ms: now, digit }),
            Inbound::Mark { name } => self.feed(Input::PlaybackMark { at_ms: now, name }),
            Inbound::Stop => self.feed(Input::Hangup { at_ms: now }),
            Inbound::Connected
            | Inbound::Cleared
            | Inbound::Notify { .. }
            | Inbound::Ignored(_) => {}
        }
    }

    /// One input to the session, then every output it queues (answers given at once, like a
    /// skipped guess, re-enter until it is quiet).
    pub(super) fn feed(&mut self, input: Input) {
        if self.session.is_ended() {
            return;
        }
        let mut inputs = vec![input];
        for _ in 0..64 {
            if inputs.is_empty() {
                return;
            }
            for i in std::mem::take(&mut inputs) {
                self.session.handle_input(i);
                while let Some(out) = self.session.poll_output() {
                    inputs.extend(self.perform(out));
                }
            }
        }
    }

    /// What the driver does with one output; `Some` for an answer given at once.
    fn perform(&mut self, out: Output) -> Option<Input> {
        let now = self.now;
        self.log(Seen::Output(out.clone()));
        match out {
            Output::PlayAudio { turn, pcm16k } => {
                if self.last_audio_turn != Some(turn) {
                    self.last_audio_turn = Some(turn);
                    self.server.reply_starts();
                }
                self.send_to_caller(Outbound::Audio(pcm16k));
            }
            Output::Mark(name) => self.send_to_caller(Outbound::Mark(name)),
            Output::ClearPlayback => self.send_to_caller(Outbound::Clear),
            Output::Asr {
                turn,
                pcm16k,
                priority,
                ..
            } => {
                if self.asr.skip_guesses && priority.is_guess() {
                    return Some(Input::AsrSkipped { at_ms: now, turn });
                }
                let tr = self.asr.transcript(&self.book, &pcm16k);
                self.log(Seen::Recognised {
                    turn,
                    priority,
                    text: tr.text.clone(),
                });
                let due = now + self.asr.delay_ms;
                self.schedule(
                    due,
                    Input::AsrResult {
                        at_ms: due,
                        turn,
                        result: Ok(tr),
                    },
                );
            }
            Output::CancelAsr { turn } => {
                self.pending
                    .retain(|p| !matches!(p.input, Input::AsrResult { turn: t, .. } if t == turn));
                // The worker may still answer; the session must ignore it.
                let due = now + self.asr.delay_ms;
                self.schedule(
                    due,
                    Input::AsrResult {
                        at_ms: due,
                        turn,
                        result: Err(AsrFailure::Cancelled),
                    },
                );
            }
            Output::Synthesize { turn, text } => {
                let chunks = self.tts.chunks(&text);
                let n = chunks.len().max(1);
                let mut due = now + self.tts.first_chunk_ms;
                for (i, pcm16k) in chunks
                    .into_iter()
                    .chain(std::iter::repeat(Vec::new()))
                    .take(n)
                    .enumerate()
                {
                    let last = i + 1 == n;
                    self.schedule(
                        due,
                        Input::TtsChunk {
                            at_ms: due,
                            turn,
                            pcm16k,
                            last,
                        },
                    );
                    due += self.tts.next_chunk_ms;
                }
            }
            Output::Webhook { turn, .. } => {
                return Some(Input::WebhookResult {
                    at_ms: now,
                    turn,
                    outcome: WebhookOutcome::Failed {
                        code: 14,
                        message: "no webhooks on a virtual call".into(),
                    },
                })
            }
            Output::Event(_) => {}
            Output::Hangup { .. } => self.close(),
        }
        None
    }

    fn schedule(&mut self, due: u64, input: Input) {
        self.seq += 1;
        let p = Pending {
            due,
            seq: self.seq,
            input,
        };
        let i = self
            .pending
            .partition_point(|q| (q.due, q.seq) <= (p.due, p.seq));
        self.pending.insert(i, p);
    }

    /// Our side sends `out`; the caller's side decodes and acts on it.
    fn send_to_caller(&mut self, out: Outbound) {
        if self.closed {
            return;
        }
        let msgs = match self.server.encode(&out) {
            Ok(m) => m,
            Err(e) => {
                return self
                    .seen
                    .problems
                    .push(format!("server cannot encode: {e}"))
            }
        };
        for m in msgs {
            let outs = match self.handset.codec.decode(m) {
                Ok(o) => o,
                Err(e) => {
                    self.seen
                        .problems
                        .push(format!("caller cannot decode: {e}"));
                    continue;
                }
            };
            for o in outs {
                match self.handset.got(self.now, o) {
                    Got::Audio {
                        from_ms,
                        ms,
                        voiced_from,
                    } => self.log(Seen::BotAudio {
                        from_ms,
                        ms,
                        voiced_from,
                    }),
                    Got::Mark(name) => self.log(Seen::MarkReceived(name)),
                    Got::Clear(replies) => {
                        self.log(Seen::Clear);
                        self.caller_outbox.extend(replies);
                    }
                }
            }
        }
    }
}
