//! Entity value lists for the intent classifier: a word sequence matching a known value of list
//! `X` adds the features `ENT:X` (and `ENT:X` bigrams with the neighbouring words), so that
//! "play my inventive playlist" looks like "play my <playlist> playlist" even when "inventive"
//! is a rare word.
//!
//! Two kinds of values: *fixed* values (an agent's entity entries) always match; *annotated*
//! values (slot values tagged in the training phrases) are counted, and while a training phrase
//! is featurised a value matches only if it was annotated more often than it occurs in that
//! phrase — a value seen only in that phrase must not match, just as a new value does not match
//! at query time. (The count is per value, not per phrase, so an unannotated occurrence of a value
//! annotated once elsewhere is left out too; a rare and harmless approximation.)

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::Hasher;

use super::features::words;

/// Count meaning "always matches".
const FIXED: u32 = u32::MAX;
/// Longest value matched, in words.
const MAX_LEN: usize = 12;

/// Named lists of entity values (see the module docs). Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone, Default)]
pub struct Gazetteers {
    names: Vec<String>,
    /// Phrase hash → (list id, occurrence count or [`FIXED`]).
    phrases: HashMap<u64, Vec<(u32, u32)>>,
    max_len: usize,
}

/// One match: list id and word range `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntMatch {
    pub list: u32,
    pub start: usize,
    pub end: usize,
}

fn phrase_key<'a>(ws: impl Iterator<Item = &'a str>) -> u64 {
    let mut h = DefaultHasher::new();
    for w in ws {
        h.write(w.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

impl Gazetteers {
    pub fn new() -> Self {
        Gazetteers::default()
    }

    /// Fixed lists, e.g. (slot or entity name, values) as given to `SlotTagger::train`.
    pub fn from_lists(lists: &[(String, Vec<String>)]) -> Self {
        let mut g = Gazetteers::new();
        for (name, values) in lists {
            g.add_values(name, values);
        }
        g
    }

    /// Known values of `name` that always match.
    pub fn add_values<S: AsRef<str>>(&mut self, name: &str, values: &[S]) {
        let list = self.list_id(name);
        for v in values {
            self.add(list, v.as_ref(), FIXED);
        }
    }

    /// One value of `name` annotated in one training phrase (call once per occurrence).
    pub fn add_annotated(&mut self, name: &str, value: &str) {
        let list = self.list_id(name);
        self.add(list, value, 1);
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// Name of list `id`.
    pub(crate) fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }

    fn list_id(&mut self, name: &str) -> u32 {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return i as u32;
        }
        self.names.push(name.to_string());
        (self.names.len() - 1) as u32
    }

    fn add(&mut self, list: u32, value: &str, count: u32) {
        let ws = words(value);
        if ws.is_empty() || ws.len() > MAX_LEN {
            return;
        }
        self.max_len = self.max_len.max(ws.len());
        let entry = self
            .phrases
            .entry(phrase_key(ws.iter().map(String::as_str)))
            .or_default();
        match entry.iter_mut().find(|(l, _)| *l == list) {
            Some((_, c)) => *c = c.saturating_add(count),
            None => entry.push((list, count)),
        }
    }

    /// Matches in `ws`, longest first per list, left to right, without overlaps within a list.
    /// `training`: leave out annotated values not seen more often than in `ws` itself.
    pub(crate) fn find(&self, ws: &[String], training: bool, out: &mut Vec<EntMatch>) {
        out.clear();
        if self.phrases.is_empty() {
            return;
        }
        let mut cands: Vec<(u32, usize, usize, u64)> = Vec::new();
        for i in 0..ws.len() {
            let mut h = DefaultHasher::new();
            let max = self.max_len.min(ws.len() - i);
            for (len, w) in ws.iter().skip(i).take(max).enumerate() {
                h.write(w.as_bytes());
                h.write_u8(0xff);
                let key = h.clone().finish();
                if let Some(lists) = self.phrases.get(&key) {
                    for &(list, _) in lists {
                        cands.push((list, i, i + len + 1, key));
                    }
                }
            }
        }
        // Longest first, then leftmost; greedy non-overlapping per list.
        cands.sort_by_key(|&(list, s, e, _)| (list, std::cmp::Reverse(e - s), s));
        // Occurrences of each candidate phrase in `ws` (for leaving out annotated values).
        let occurrences = |list: u32, key: u64| -> u32 {
            cands.iter().filter(|c| c.0 == list && c.3 == key).count() as u32
        };
        let count_of = |list: u32, key: u64| -> u32 {
            self.phrases
                .get(&key)
                .and_then(|ls| ls.iter().find(|(l, _)| *l == list))
                .map_or(0, |(_, c)| *c)
        };
        let mut taken: Vec<EntMatch> = Vec::new();
        for &(list, start, end, key) in &cands {
            let c = count_of(list, key);
            if training && c != FIXED && c <= occurrences(list, key) {
                continue;
            }
            let overlaps = taken
                .iter()
                .any(|m| m.list == list && m.start < end && start < m.end);
            if !overlaps {
                taken.push(EntMatch { list, start, end });
            }
        }
        taken.sort_by_key(|m| (m.start, m.list));
        out.extend(taken);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(s: &str) -> Vec<String> {
        words(s)
    }

    #[test]
    fn longest_match_and_leave_one_out() {
        let mut g = Gazetteers::new();
        g.add_values("city", &["New York", "York"]);
        g.add_annotated("playlist", "inventive");
        g.add_annotated("playlist", "rock hits");
        g.add_annotated("playlist", "rock hits");
        let mut m = Vec::new();
        g.find(
            &ws("From New York to York, play my Inventive playlist"),
            false,
            &mut m,
        );
        let city = 0;
        let pl = 1;
        assert_eq!(
            m,
            [
                EntMatch {
                    list: city,
                    start: 1,
                    end: 3
                },
                EntMatch {
                    list: city,
                    start: 4,
                    end: 5
                },
                EntMatch {
                    list: pl,
                    start: 7,
                    end: 8
                },
            ]
        );
        // Training: "inventive" was annotated once (in this phrase): left out; fixed values stay.
        g.find(&ws("play my inventive playlist in new york"), true, &mut m);
        assert_eq!(
            m,
            [EntMatch {
                list: city,
                start: 5,
                end: 7
            }]
        );
        // Annotated twice: still matches in one of the phrases it came from.
        g.find(&ws("add rock hits"), true, &mut m);
        assert_eq!(
            m,
            [EntMatch {
                list: pl,
                start: 1,
                end: 3
            }]
        );
        g.find(&ws("rock hits and rock hits"), true, &mut m);
        assert!(m.is_empty());
        assert_eq!(g.name(pl), Some("playlist"));
        assert!(Gazetteers::new().is_empty() && !g.is_empty());
    }
}
