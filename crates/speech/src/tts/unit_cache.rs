//! Audio of recently synthesised short units (clauses, sentences), keyed by phoneme ids.
//!
//! Dynamic replies often open with the same clause ("Table booked, for …", "Sure, …"): the
//! prompt cache cannot hold them (the whole text varies), but the opening unit's phoneme ids
//! repeat. A hit skips the model run for that chunk. Bounded by total samples; the oldest
//! entries go first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Units longer than this many phoneme ids are not cached (long sentences rarely repeat).
pub const MAX_CACHED_IDS: usize = 160;

/// A bounded, thread-safe map from phoneme ids to synthesised samples.
#[derive(Debug)]
pub struct UnitCache {
    max_samples: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    audio: HashMap<Vec<i64>, Arc<[i16]>>,
    order: VecDeque<Vec<i64>>,
    samples: usize,
}

impl UnitCache {
    /// A cache holding at most `max_bytes` of 16-bit audio.
    pub fn new(max_bytes: usize) -> Self {
        UnitCache {
            max_samples: max_bytes / 2,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached audio of `ids`, if any.
    pub fn get(&self, ids: &[i64]) -> Option<Arc<[i16]>> {
        self.lock().audio.get(ids).cloned()
    }

    /// Remembers `samples` for `ids` when the unit is short enough and fits the budget,
    /// dropping the oldest entries to make room.
    pub fn insert(&self, ids: &[i64], samples: &[i16]) {
        if ids.is_empty() || ids.len() > MAX_CACHED_IDS || samples.len() > self.max_samples {
            return;
        }
        let mut inner = self.lock();
        if inner.audio.contains_key(ids) {
            return;
        }
        while inner.samples + samples.len() > self.max_samples {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(a) = inner.audio.remove(&old) {
                inner.samples -= a.len();
            }
        }
        inner.samples += samples.len();
        inner.order.push_back(ids.to_vec());
        inner.audio.insert(ids.to_vec(), Arc::from(samples));
    }

    /// Number of cached units.
    pub fn len(&self) -> usize {
        self.lock().audio.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_after_insert_and_evicts_oldest_within_budget() {
        let c = UnitCache::new(2 * 10); // ten samples
        c.insert(&[1, 2], &[1; 4]);
        c.insert(&[3], &[2; 4]);
        assert_eq!(c.get(&[1, 2]).as_deref(), Some(&[1i16; 4][..]));
        c.insert(&[4], &[3; 4]); // 12 > 10: the oldest ([1, 2]) goes
        assert!(c.get(&[1, 2]).is_none());
        assert_eq!(c.get(&[3]).as_deref(), Some(&[2i16; 4][..]));
        assert_eq!(c.get(&[4]).as_deref(), Some(&[3i16; 4][..]));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn long_or_oversized_units_are_not_kept() {
        let c = UnitCache::new(2 * 10);
        c.insert(&vec![7; MAX_CACHED_IDS + 1], &[1; 2]);
        c.insert(&[8], &[1; 11]);
        c.insert(&[], &[1; 2]);
        assert!(c.is_empty());
    }
}
