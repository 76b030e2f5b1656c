//! What happened on a virtual call, and the questions tests ask of it.

use sb_call::{AsrPriority, CallEvent, EndStatus, HangupReason, Output};

use super::handset::Spoken;

/// One thing that happened, at a virtual time (see [`VirtualCall::timeline`]).
#[derive(Debug, Clone)]
pub enum Seen {
    /// The session asked the driver for this (events included).
    Output(Output),
    /// The scripted recogniser heard `text` in an [`Output::Asr`] request.
    Recognised {
        turn: u64,
        priority: AsrPriority,
        text: String,
    },
    /// The caller finished saying a phrase (times of its frames on the caller's side).
    Spoke(Spoken),
    /// Bot audio reached the caller: it plays from `from_ms` for `ms`, its first voiced sample
    /// at `voiced_from` (on the wire's timeline).
    BotAudio {
        from_ms: u64,
        ms: u64,
        voiced_from: Option<u64>,
    },
    /// The server sent a mark / a clear to the caller.
    MarkReceived(String),
    Clear,
    /// The caller echoed a mark (the audio before it has played).
    MarkEchoed(String),
    /// The caller pressed a key.
    Key(char),
    CallerHungUp,
    /// The stream is over.
    Closed,
}

/// A stretch of bot speech as the caller heard it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    pub from_ms: u64,
    pub to_ms: u64,
}

impl Heard {
    pub fn ms(&self) -> u64 {
        self.to_ms - self.from_ms
    }
}

/// Bot audio closer than this to the stretch before it continues that stretch.
const JOIN_MS: u64 = 30;

/// Everything seen on a call, in order, with virtual times (ms), and the questions tests ask.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub entries: Vec<(u64, Seen)>,
    /// Protocol problems seen on either side (undecodable messages); empty on a clean call.
    pub problems: Vec<String>,
}

impl Timeline {
    pub fn push(&mut self, at: u64, s: Seen) {
        self.entries.push((at, s));
    }

    /// Session outputs with their times.
    pub fn outputs(&self) -> impl Iterator<Item = (u64, &Output)> {
        self.entries.iter().filter_map(|(t, s)| match s {
            Seen::Output(o) => Some((*t, o)),
            _ => None,
        })
    }

    /// Session events with their times.
    pub fn events(&self) -> Vec<(u64, CallEvent)> {
        self.outputs()
            .filter_map(|(t, o)| match o {
                Output::Event(e) => Some((t, e.clone())),
                _ => None,
            })
            .collect()
    }

    /// `(time, turn, text)` of every synthesis request.
    pub fn synthesized(&self) -> Vec<(u64, u64, String)> {
        self.outputs()
            .filter_map(|(t, o)| match o {
                Output::Synthesize { turn, text } => Some((t, *turn, text.clone())),
                _ => None,
            })
            .collect()
    }

    /// `(time, turn, priority, what the recogniser heard)` of every recognition request.
    pub fn recognitions(&self) -> Vec<(u64, u64, AsrPriority, String)> {
        self.entries
            .iter()
            .filter_map(|(t, s)| match s {
                Seen::Recognised {
                    turn,
                    priority,
                    text,
                } => Some((*t, *turn, *priority, text.clone())),
                _ => None,
            })
            .collect()
    }

    /// `(time, turn)` of every cancelled recognition.
    pub fn cancelled(&self) -> Vec<(u64, u64)> {
        self.outputs()
            .filter_map(|(t, o)| match o {
                Output::CancelAsr { turn } => Some((t, *turn)),
                _ => None,
            })
            .collect()
    }

    /// Times the caller received a clear.
    pub fn clears(&self) -> Vec<u64> {
        self.times(|s| matches!(s, Seen::Clear))
    }

    /// Protocol problems; empty on a clean call.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Times the caller echoed mark `name`.
    pub fn echoed(&self, name: &str) -> Vec<u64> {
        self.times(|s| matches!(s, Seen::MarkEchoed(n) if n == name))
    }

    /// The phrases the caller finished saying.
    pub fn spoken(&self) -> Vec<Spoken> {
        self.entries
            .iter()
            .filter_map(|(_, s)| match s {
                Seen::Spoke(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// The bot's speech as the caller heard it: voiced audio joined into stretches, each cut
    /// short where a clear dropped what had not played.
    pub fn heard(&self) -> Vec<Heard> {
        let mut out: Vec<Heard> = Vec::new();
        for (t, s) in &self.entries {
            match s {
                Seen::BotAudio {
                    from_ms,
                    ms,
                    voiced_from,
                } => {
                    let end = from_ms + ms;
                    match out.last_mut() {
                        Some(h) if *from_ms <= h.to_ms + JOIN_MS && voiced_from.is_some() => {
                            h.to_ms = h.to_ms.max(end)
                        }
                        Some(h) if *from_ms <= h.to_ms + JOIN_MS => {} // trailing silence
                        _ => {
                            if let Some(v) = voiced_from {
                                out.push(Heard {
                                    from_ms: *v,
                                    to_ms: end,
                                });
                            }
                        }
                    }
                }
                Seen::Clear => {
                    if let Some(h) = out.last_mut() {
                        h.to_ms = h.to_ms.min(*t);
                        if h.to_ms <= h.from_ms {
                            out.pop();
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// How the session ended, and when.
    pub fn ended(&self) -> Option<(u64, EndStatus)> {
        self.events().into_iter().find_map(|(t, e)| match e {
            CallEvent::SessionEnded { status, .. } => Some((t, status)),
            _ => None,
        })
    }

    /// The bot's hang-up, and when.
    pub fn hangup(&self) -> Option<(u64, HangupReason)> {
        self.outputs().find_map(|(t, o)| match o {
            Output::Hangup { reason } => Some((t, *reason)),
            _ => None,
        })
    }

    /// When the stream ended.
    pub fn closed_at(&self) -> Option<u64> {
        self.times(|s| matches!(s, Seen::Closed)).first().copied()
    }

    fn times(&self, f: impl Fn(&Seen) -> bool) -> Vec<u64> {
        self.entries
            .iter()
            .filter(|(_, s)| f(s))
            .map(|(t, _)| *t)
            .collect()
    }

    /// The timeline without audio samples, one line per entry (for failure messages).
    pub fn dump(&self) -> String {
        let mut s = String::new();
        for (t, e) in &self.entries {
            let line = match e {
                Seen::Output(Output::PlayAudio { turn, pcm16k }) => {
                    format!("play turn {turn}: {} ms", pcm16k.len() / 16)
                }
                Seen::Output(Output::Asr {
                    turn,
                    pcm16k,
                    priority,
                    ..
                }) => format!("asr turn {turn} {priority:?}: {} ms", pcm16k.len() / 16),
                Seen::Output(Output::Event(CallEvent::IntentMatched { turn, result, .. })) => {
                    format!(
                        "intent turn {turn}: {:?} ({:?})",
                        result.intent_name, result.query_result["queryText"]
                    )
                }
                Seen::Output(Output::Event(CallEvent::TurnCompleted(r))) => {
                    format!("turn {} completed: {:?}", r.turn, r.input)
                }
                Seen::Output(Output::Event(CallEvent::SessionEnded { status, .. })) => {
                    format!("session ended: {status:?}")
                }
                other => format!("{other:?}"),
            };
            s.push_str(&format!("{t:>7} ms  {line}\n"));
        }
        for p in &self.problems {
            s.push_str(&format!("problem: {p}\n"));
        }
        s
    }
}
