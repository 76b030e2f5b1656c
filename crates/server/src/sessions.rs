//! In-memory session cache that doubles as the per-session lock map.
//!
//! Every turn of a session runs while holding that session's async mutex, so two concurrent requests on
//! one session are serialised and neither update is lost. The map is bounded: when it is full, idle
//! entries (nobody holds or waits for them) are evicted — expired ones first; their state is already
//! queued for the store, which serves later reads in order with writes. If every entry is busy, new
//! sessions are refused.
//!
//! On a shared store (PostgreSQL, several nodes) a cached copy may be stale — another node may have
//! served the session since — so every turn reads the session through and the slot is only this
//! node's per-session lock; the store's version check catches two nodes writing at once.

use crate::store::StoredSession;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a slot holds: `None` until the session was loaded from the store.
#[derive(Debug, Default)]
pub struct Slot {
    pub cached: Option<StoredSession>,
    /// True once the store was consulted (so a missing row is not looked up again).
    pub loaded: bool,
}

pub type SlotRef = Arc<tokio::sync::Mutex<Slot>>;

#[derive(Debug, thiserror::Error)]
#[error("too many active sessions (limit {0})")]
pub struct SessionsFull(pub usize);

pub struct Sessions {
    map: Mutex<HashMap<String, SlotRef>>,
    max: usize,
}

impl Sessions {
    pub fn new(max: usize) -> Self {
        Sessions {
            map: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SlotRef>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The slot of session `id`, created if absent. Lock it before reading or writing the session.
    pub fn slot(&self, id: &str, now: DateTime<Utc>) -> Result<SlotRef, SessionsFull> {
        let mut map = self.lock();
        if let Some(s) = map.get(id) {
            return Ok(s.clone());
        }
        if map.len() >= self.max {
            evict(&mut map, now, self.max - self.max / 10);
            if map.len() >= self.max {
                return Err(SessionsFull(self.max));
            }
        }
        let slot = SlotRef::default();
        map.insert(id.to_string(), slot.clone());
        Ok(slot)
    }

    /// Drops idle cached sessions that expired at or before `now`; returns how many.
    pub fn evict_expired(&self, now: DateTime<Utc>) -> usize {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, slot| !(idle(slot) && expired(slot, now)));
        before - map.len()
    }
}

/// Nobody but the map holds the slot. Checked under the map lock, and slots are only cloned under the
/// map lock, so an idle slot cannot be acquired concurrently.
fn idle(slot: &SlotRef) -> bool {
    Arc::strong_count(slot) == 1
}

fn expired(slot: &SlotRef, now: DateTime<Utc>) -> bool {
    match slot.try_lock() {
        Ok(s) => s.cached.as_ref().is_none_or(|c| c.expires_at <= now),
        Err(_) => false,
    }
}

/// Evicts idle entries until at most `target` remain: expired ones first, then any idle ones.
fn evict(map: &mut HashMap<String, SlotRef>, now: DateTime<Utc>, target: usize) {
    map.retain(|_, slot| !(idle(slot) && expired(slot, now)));
    if map.len() <= target {
        return;
    }
    let mut excess = map.len() - target;
    map.retain(|_, slot| {
        if excess > 0 && idle(slot) {
            excess -= 1;
            false
        } else {
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn stored(exp: DateTime<Utc>) -> StoredSession {
        StoredSession {
            state: Default::default(),
            created_at: exp,
            updated_at: exp,
            expires_at: exp,
            version: 1,
        }
    }

    #[test]
    fn same_id_gives_same_slot() {
        let s = Sessions::new(4);
        let now = Utc::now();
        let a = s.slot("a", now).map_err(|e| e.to_string());
        let b = s.slot("a", now).map_err(|e| e.to_string());
        assert!(matches!((a, b), (Ok(a), Ok(b)) if Arc::ptr_eq(&a, &b)));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn full_map_evicts_idle_and_refuses_when_all_busy() {
        let s = Sessions::new(2);
        let now = Utc::now();
        let held: Vec<_> = ["a", "b"]
            .iter()
            .filter_map(|id| s.slot(id, now).ok())
            .collect();
        assert_eq!(held.len(), 2);
        assert!(s.slot("c", now).is_err(), "all busy: refused");
        drop(held);
        assert!(s.slot("c", now).is_ok(), "idle entries evicted");
        assert!(s.len() <= 2);
    }

    #[test]
    fn evict_expired_keeps_live_sessions() {
        let s = Sessions::new(10);
        let now = Utc::now();
        for (id, exp) in [
            ("old", now - Duration::minutes(1)),
            ("live", now + Duration::minutes(5)),
        ] {
            if let Ok(slot) = s.slot(id, now) {
                if let Ok(mut g) = slot.try_lock() {
                    g.cached = Some(stored(exp));
                    g.loaded = true;
                }
            }
        }
        assert_eq!(s.evict_expired(now), 1);
        assert_eq!(s.len(), 1);
    }
}
