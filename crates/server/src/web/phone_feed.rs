//! Phone calls in the console: the phone driver reports call start, each completed turn and the
//! end; a task turns them into live conversations (channel `phone`) with the caller's words, what
//! the bot understood and its replies. A call the bot handed off lands in the queue with its
//! transcript. The driver never waits: reports go through a bounded queue, and a full queue drops
//! the report (counted, logged).

use super::hub::{Hub, Live};
use super::model::{Channel, Nlu, Sentiment, Status, Who};
use sb_call::{EndStatus, TurnInput, TurnRecord};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

const QUEUE: usize = 4_096;

enum Report {
    Started {
        call_id: String,
        caller: Option<String>,
    },
    Turn {
        call_id: String,
        record: Box<TurnRecord>,
    },
    Ended {
        call_id: String,
        status: EndStatus,
    },
}

/// The driver's handle. Cheap to clone.
#[derive(Clone)]
pub struct PhoneFeed {
    tx: Option<mpsc::Sender<Report>>,
    dropped: Arc<AtomicU64>,
}

impl PhoneFeed {
    /// Starts the task on the current runtime (a feed without one reports nothing).
    pub fn start(hub: Arc<Hub>) -> PhoneFeed {
        let dropped = Arc::new(AtomicU64::new(0));
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return PhoneFeed { tx: None, dropped };
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        rt.spawn(run(hub, rx));
        PhoneFeed {
            tx: Some(tx),
            dropped,
        }
    }

    /// Reports lost to a full queue.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn send(&self, r: Report) {
        if let Some(tx) = &self.tx {
            if tx.try_send(r).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("console: phone report dropped (queue full)");
            }
        }
    }

    /// A call began; `params` are its session parameters (a caller number is taken from
    /// `From`, `caller` or `phoneNumber`).
    pub fn started(&self, call_id: &str, params: &Map<String, Value>) {
        let caller = ["From", "from", "caller", "phoneNumber"]
            .iter()
            .find_map(|k| params.get(*k).and_then(Value::as_str))
            .map(|s| s.chars().take(40).collect());
        self.send(Report::Started {
            call_id: call_id.into(),
            caller,
        });
    }

    pub fn turn(&self, call_id: &str, record: &TurnRecord) {
        self.send(Report::Turn {
            call_id: call_id.into(),
            record: Box::new(record.clone()),
        });
    }

    pub fn ended(&self, call_id: &str, status: &EndStatus) {
        self.send(Report::Ended {
            call_id: call_id.into(),
            status: status.clone(),
        });
    }
}

fn said(input: &TurnInput) -> Option<String> {
    match input {
        TurnInput::Speech { text, .. } => Some(text.clone()),
        TurnInput::Dtmf { digits } => Some(format!("(keypad) {digits}")),
        TurnInput::Event { .. } => None,
    }
}

async fn run(hub: Arc<Hub>, mut rx: mpsc::Receiver<Report>) {
    let mut calls: HashMap<String, Arc<Live>> = HashMap::new();
    while let Some(r) = rx.recv().await {
        let result = match r {
            Report::Started { call_id, caller } => {
                let id: String = call_id.chars().take(100).collect();
                match hub
                    .open(id, Channel::Phone, String::new(), None, caller)
                    .await
                {
                    Ok(l) => {
                        calls.insert(call_id, l);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Report::Turn { call_id, record } => match calls.get(&call_id) {
                None => Ok(()),
                Some(l) => {
                    hub.change(l, |t| {
                        let nlu = Nlu {
                            intent: record.intent.clone(),
                            confidence: record.confidence,
                            parameters: record.parameters.clone(),
                            sentiment: record
                                .sentiment
                                .map(|(score, magnitude)| Sentiment { score, magnitude }),
                        };
                        match said(&record.input) {
                            Some(text) => {
                                t.add(Who::Customer, None, text, Vec::new(), Some(nlu));
                            }
                            None => {
                                if let Some(i) = nlu.intent {
                                    t.conv.meta.intents.push(i);
                                }
                            }
                        }
                        if !record.bot_text.is_empty() {
                            t.add(Who::Bot, None, record.bot_text.clone(), Vec::new(), None);
                        }
                    })
                    .await
                }
            },
            Report::Ended { call_id, status } => match calls.remove(&call_id) {
                None => Ok(()),
                Some(l) => {
                    hub.change(&l, |t| {
                        let now = t.now;
                        match &status {
                            EndStatus::LiveAgentHandoff {
                                params,
                                transfer_to,
                            } => {
                                let reason = params
                                    .get("reason")
                                    .and_then(Value::as_str)
                                    .map(|s| s.chars().take(200).collect())
                                    .unwrap_or_else(|| "live agent handoff".to_string());
                                if let Some(n) = transfer_to {
                                    t.add(
                                        Who::Note,
                                        None,
                                        format!("The bot transferred the call to {n}."),
                                        Vec::new(),
                                        None,
                                    );
                                }
                                t.set_status(Status::Queued { since: now, reason });
                            }
                            _ => t.set_status(Status::Ended { at: now }),
                        }
                    })
                    .await
                }
            },
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "console: phone report not recorded");
        }
    }
}
