//! Live conversations and their events. Every change to a conversation goes through
//! [`Hub::change`]: under the conversation's lock it is applied, announced (console and customer
//! events, in order) and written to the [`ConversationStore`], so the store sees each
//! conversation's writes in order.
//!
//! Console subscribers share one bounded broadcast channel; one that falls behind gets a `resync`
//! event (and re-reads the state) instead of silently missing entries; such lags are counted.

use super::model::{Channel, Conversation, Entry, Meta, Nlu, PlacedCall, Status, Who, MAX_ENTRIES};
use super::store::{ConversationStore, WebStoreError};
use crate::clock::Clock;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Console events buffered per subscriber before it must resync.
const CONSOLE_EVENTS: usize = 8_192;
/// Events buffered per customer widget.
const CUSTOMER_EVENTS: usize = 64;

pub type Event = Arc<str>;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("too many live conversations (limit {0})")]
    Full(usize),
    #[error("no such live conversation")]
    NotFound,
    #[error(transparent)]
    Store(#[from] WebStoreError),
}

/// One live conversation.
pub struct Live {
    conv: tokio::sync::Mutex<Conversation>,
    customer: broadcast::Sender<Event>,
    /// SHA-256 of the customer's chat key (phone conversations have none).
    key_hash: Option<[u8; 32]>,
    /// The engine session path of the conversation.
    pub session: String,
}

impl Live {
    /// Whether `key` is this chat's key (constant time).
    pub fn key_matches(&self, key: &str) -> bool {
        let Some(want) = self.key_hash else {
            return false;
        };
        let got = super::auth::sha256(key.as_bytes());
        want.iter()
            .zip(got.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.customer.subscribe()
    }

    pub async fn snapshot(&self) -> Conversation {
        self.conv.lock().await.clone()
    }
}

/// The edits of one [`Hub::change`].
pub struct Txn<'a> {
    pub conv: &'a mut Conversation,
    pub now: DateTime<Utc>,
    console: Vec<Value>,
    customer: Vec<Value>,
    dirty: Vec<u32>,
}

impl Txn<'_> {
    /// Appends an entry; returns its `seq` (`None` once the transcript is full).
    pub fn add(
        &mut self,
        who: Who,
        agent: Option<String>,
        text: String,
        rich: Vec<Value>,
        nlu: Option<Nlu>,
    ) -> Option<u32> {
        let seq = self.conv.entries.len() as u32;
        if self.conv.entries.len() >= MAX_ENTRIES {
            return None;
        }
        let e = Entry {
            seq,
            at: self.now,
            who,
            agent,
            text,
            rich,
            nlu,
        };
        self.console
            .push(json!({"type": "entry", "conv": self.conv.meta.id, "entry": e}));
        if !matches!(who, Who::Customer | Who::Note) {
            self.customer.push(json!({"type": "entry", "entry": e}));
        }
        if let Some(i) = e.nlu.as_ref().and_then(|n| n.intent.clone()) {
            note_intent(&mut self.conv.meta, i);
        }
        self.conv.entries.push(e);
        self.dirty.push(seq);
        Some(seq)
    }

    /// Attaches what the bot understood to the customer entry `seq`.
    pub fn annotate(&mut self, seq: u32, nlu: Nlu) {
        let id = self.conv.meta.id.clone();
        if let Some(e) = self.conv.entries.get_mut(seq as usize) {
            if let Some(i) = nlu.intent.clone() {
                note_intent(&mut self.conv.meta, i);
            }
            self.console
                .push(json!({"type": "nlu", "conv": id, "seq": seq, "nlu": nlu}));
            e.nlu = Some(nlu);
            self.dirty.push(seq);
        }
    }

    pub fn set_status(&mut self, status: Status) {
        if let Status::Queued { reason, .. } = &status {
            self.conv.meta.handoff_reason = Some(reason.clone());
        }
        self.customer
            .push(json!({"type": "status", "status": status.name()}));
        self.conv.meta.status = status;
    }

    pub fn add_call(&mut self, call: PlacedCall) {
        self.conv.meta.calls.push(call);
    }

    /// Records a platform's status for a placed call; `false` if the call is unknown.
    pub fn call_status(&mut self, call_id: &str, status: &str) -> bool {
        match self.conv.meta.calls.iter_mut().find(|c| c.id == call_id) {
            Some(c) => {
                c.status = status.chars().take(40).collect();
                true
            }
            None => false,
        }
    }
}

fn note_intent(meta: &mut Meta, intent: String) {
    if !meta.intents.contains(&intent) && meta.intents.len() < 100 {
        meta.intents.push(intent);
    }
}

pub struct Hub {
    live: Mutex<HashMap<String, Arc<Live>>>,
    console: broadcast::Sender<Event>,
    pub store: Arc<dyn ConversationStore>,
    clock: Arc<dyn Clock>,
    max_live: usize,
    lagged: AtomicU64,
}

impl Hub {
    pub fn new(store: Arc<dyn ConversationStore>, clock: Arc<dyn Clock>, max_live: usize) -> Self {
        let (console, _) = broadcast::channel(CONSOLE_EVENTS);
        Hub {
            live: Mutex::new(HashMap::new()),
            console,
            store,
            clock,
            max_live: max_live.max(1),
            lagged: AtomicU64::new(0),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Live>>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.console.subscribe()
    }

    /// Counts a console subscriber that fell behind by `n` events.
    pub fn note_lag(&self, n: u64) {
        self.lagged.fetch_add(n, Ordering::Relaxed);
        tracing::warn!(events = n, "console subscriber lagged; it resyncs");
    }

    pub fn lagged(&self) -> u64 {
        self.lagged.load(Ordering::Relaxed)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn get(&self, id: &str) -> Option<Arc<Live>> {
        self.map().get(id).cloned()
    }

    pub fn live(&self) -> Vec<Arc<Live>> {
        self.map().values().cloned().collect()
    }

    /// Starts a live conversation.
    pub async fn open(
        &self,
        id: String,
        channel: Channel,
        session: String,
        key: Option<&str>,
        phone: Option<String>,
    ) -> Result<Arc<Live>, HubError> {
        let now = self.now();
        let conv = Conversation {
            meta: Meta {
                id: id.clone(),
                channel,
                started_at: now,
                updated_at: now,
                status: Status::Bot,
                handoff_reason: None,
                phone,
                intents: Vec::new(),
                calls: Vec::new(),
                last_text: String::new(),
                entry_count: 0,
            },
            entries: Vec::new(),
        };
        let live = Arc::new(Live {
            conv: tokio::sync::Mutex::new(conv),
            customer: broadcast::channel(CUSTOMER_EVENTS).0,
            key_hash: key.map(|k| super::auth::sha256(k.as_bytes())),
            session,
        });
        {
            let mut map = self.map();
            if map.len() >= self.max_live {
                return Err(HubError::Full(self.max_live));
            }
            map.insert(id, live.clone());
        }
        self.change(&live, |_| ()).await?;
        Ok(live)
    }

    /// Applies `f` to the conversation, announces it and stores it. A conversation that `f`
    /// closes leaves the live set (the store keeps it).
    pub async fn change<R>(
        &self,
        live: &Live,
        f: impl FnOnce(&mut Txn<'_>) -> R,
    ) -> Result<R, HubError> {
        let mut conv = live.conv.lock().await;
        let now = self.now();
        let mut txn = Txn {
            conv: &mut conv,
            now,
            console: Vec::new(),
            customer: Vec::new(),
            dirty: Vec::new(),
        };
        let r = f(&mut txn);
        let Txn {
            console,
            customer,
            dirty,
            ..
        } = txn;
        let count = conv.entries.len() as u32;
        conv.meta.updated_at = now;
        conv.meta.entry_count = count;
        if let Some(last) = conv
            .entries
            .iter()
            .rev()
            .find(|e| e.who != Who::System && !e.text.is_empty())
        {
            conv.meta.last_text = last.text.chars().take(160).collect();
        }
        for ev in console {
            let _ = self.console.send(ev.to_string().into());
        }
        let _ = self.console.send(
            json!({"type": "conv", "conv": conv.meta})
                .to_string()
                .into(),
        );
        for ev in customer {
            let _ = live.customer.send(ev.to_string().into());
        }
        self.store.save_meta(&conv.meta).await?;
        for seq in dirty {
            if let Some(e) = conv.entries.get(seq as usize) {
                self.store.put_entry(&conv.meta.id, e).await?;
            }
        }
        if conv.meta.status.is_closed() {
            let id = conv.meta.id.clone();
            let mut map = self.map();
            if map.get(&id).is_some_and(|l| std::ptr::eq(&**l, live)) {
                map.remove(&id);
            }
        }
        Ok(r)
    }

    /// Live conversations' headers: the queue (oldest first) and the others (newest first).
    pub async fn overview(&self) -> (Vec<Meta>, Vec<Meta>) {
        let mut queue = Vec::new();
        let mut others = Vec::new();
        for l in self.live() {
            let m = l.conv.lock().await.meta.clone();
            match m.status {
                Status::Queued { .. } => queue.push(m),
                _ => others.push(m),
            }
        }
        queue.sort_by_key(|m| match &m.status {
            Status::Queued { since, .. } => *since,
            _ => m.started_at,
        });
        others.sort_by_key(|m| std::cmp::Reverse(m.updated_at));
        (queue, others)
    }

    /// Ends chats idle since before `idle_before` that nobody is waiting on (queued or with an
    /// agent stay). Returns how many ended.
    pub async fn sweep(&self, idle_before: DateTime<Utc>) -> usize {
        let mut n = 0;
        for l in self.live() {
            let stale = {
                let c = l.conv.lock().await;
                c.meta.channel == Channel::Chat
                    && c.meta.status == Status::Bot
                    && c.meta.updated_at < idle_before
            };
            if stale {
                let now = self.now();
                if self
                    .change(&l, |t| t.set_status(Status::Ended { at: now }))
                    .await
                    .is_ok()
                {
                    n += 1;
                }
            }
        }
        n
    }

    /// A conversation, live or from history.
    pub async fn find(&self, id: &str) -> Result<Option<Conversation>, HubError> {
        if let Some(l) = self.get(id) {
            return Ok(Some(l.snapshot().await));
        }
        Ok(self.store.get(id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::store::MemoryStore;

    fn hub() -> Hub {
        Hub::new(
            Arc::new(MemoryStore::new(100)),
            Arc::new(crate::clock::SystemClock),
            3,
        )
    }

    #[tokio::test]
    async fn changes_are_announced_in_order_and_stored() {
        let h = hub();
        let mut rx = h.subscribe();
        let live = h
            .open("c1".into(), Channel::Chat, "s".into(), Some("k"), None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut cust = live.subscribe();
        let seq = h
            .change(&live, |t| {
                t.add(Who::Customer, None, "hi".into(), vec![], None)
            })
            .await
            .ok()
            .flatten();
        assert_eq!(seq, Some(0));
        let r = h
            .change(&live, |t| {
                t.annotate(
                    0,
                    Nlu {
                        intent: Some("Greet".into()),
                        confidence: 0.9,
                        parameters: Default::default(),
                        sentiment: None,
                    },
                );
                t.add(Who::Bot, None, "hello".into(), vec![], None);
            })
            .await;
        assert!(r.is_ok());
        let mut kinds = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            let v: Value = serde_json::from_str(&ev).unwrap_or_default();
            kinds.push(v["type"].as_str().unwrap_or_default().to_string());
        }
        assert_eq!(kinds, ["conv", "entry", "conv", "nlu", "entry", "conv"]);
        // The customer hears the bot, not their own echo.
        let ev: Value = serde_json::from_str(&cust.try_recv().unwrap_or_else(|_| "{}".into()))
            .unwrap_or_default();
        assert_eq!(ev["entry"]["text"], "hello");
        assert!(cust.try_recv().is_err());
        let stored = h.store.get("c1").await.ok().flatten();
        assert_eq!(stored.as_ref().map(|c| c.entries.len()), Some(2));
        assert_eq!(
            stored.map(|c| c.meta.intents),
            Some(vec!["Greet".to_string()])
        );
        assert!(live.key_matches("k") && !live.key_matches("K"));
    }

    #[tokio::test]
    async fn queue_is_oldest_first_and_closed_conversations_leave() {
        let h = hub();
        let mut lives = Vec::new();
        for id in ["a", "b", "c"] {
            let l = h
                .open(id.into(), Channel::Chat, id.into(), None, None)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            lives.push(l);
        }
        assert!(matches!(
            h.open("d".into(), Channel::Chat, "d".into(), None, None)
                .await,
            Err(HubError::Full(3))
        ));
        let t0 = h.now();
        for (l, dt) in lives.iter().zip([5, 1, 3]) {
            let since = t0 + chrono::Duration::seconds(dt);
            let _ = h
                .change(l, |t| {
                    t.set_status(Status::Queued {
                        since,
                        reason: "r".into(),
                    })
                })
                .await;
        }
        let (queue, _) = h.overview().await;
        let ids: Vec<_> = queue.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["b", "c", "a"]);
        let _ = h
            .change(&lives[1], |t| {
                t.set_status(Status::Resolved {
                    by: "ada".into(),
                    at: t0,
                })
            })
            .await;
        assert!(h.get("b").is_none());
        assert!(matches!(h.find("b").await, Ok(Some(_))));
    }
}
