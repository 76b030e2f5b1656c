//! Phrase lists matched on token sequences (longest match first, per list, left to right).
//! Lists derived from the training annotations keep occurrence counts so that, when an example
//! is featurised for training, its own values can be left out (a value seen only in that example
//! must not match, as it would not for a new value at query time).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::Hasher;

use super::tokens::{tag_tokens, Tok};

/// Occurrence count meaning "never leave out" (built-in and supplied lists).
pub(crate) const FIXED: u32 = u32::MAX;

#[derive(Debug, Clone, Default)]
pub(crate) struct Gazetteers {
    /// List names, indexed by list id.
    pub names: Vec<String>,
    phrases: HashMap<u64, Vec<(u32, u32)>>,
    max_len: usize,
}

/// One match: list id and token range `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GazMatch {
    pub list: u32,
    pub start: usize,
    pub end: usize,
}

fn phrase_key<'a>(norms: impl Iterator<Item = &'a str>) -> u64 {
    let mut h = DefaultHasher::new();
    for n in norms {
        h.write(n.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

/// Key of a phrase given as text (tokenised like queries).
pub(crate) fn text_key(text: &str) -> Option<(u64, usize)> {
    let toks = tag_tokens(text);
    (!toks.is_empty()).then(|| (phrase_key(toks.iter().map(|t| t.norm.as_str())), toks.len()))
}

/// Key of tokens `start..end`.
pub(crate) fn span_key(toks: &[Tok], start: usize, end: usize) -> Option<u64> {
    toks.get(start..end)
        .filter(|s| !s.is_empty())
        .map(|s| phrase_key(s.iter().map(|t| t.norm.as_str())))
}

impl Gazetteers {
    pub fn list_id(&mut self, name: &str) -> u32 {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return i as u32;
        }
        self.names.push(name.to_string());
        (self.names.len() - 1) as u32
    }

    /// Adds one occurrence of `phrase` to list `list` (`count` = [`FIXED`] for fixed lists).
    pub fn add(&mut self, list: u32, phrase: &str, count: u32) {
        if let Some((key, len)) = text_key(phrase) {
            self.add_key(list, key, len, count);
        }
    }

    pub fn add_key(&mut self, list: u32, key: u64, len: usize, count: u32) {
        self.max_len = self.max_len.max(len);
        let entry = self.phrases.entry(key).or_default();
        match entry.iter_mut().find(|(l, _)| *l == list) {
            Some((_, c)) => *c = c.saturating_add(count),
            None => entry.push((list, count)),
        }
    }

    /// Matches in `toks`; `exclude` lists (list, phrase key) occurrences to leave out.
    pub fn find(&self, toks: &[Tok], exclude: &[(u32, u64)], out: &mut Vec<GazMatch>) {
        out.clear();
        let mut covered: Vec<(u32, usize)> = Vec::new();
        for i in 0..toks.len() {
            let mut h = DefaultHasher::new();
            let mut keys = [0u64; 12];
            let max = self.max_len.min(toks.len() - i).min(keys.len());
            for (j, key) in keys.iter_mut().enumerate().take(max) {
                if let Some(t) = toks.get(i + j) {
                    h.write(t.norm.as_bytes());
                    h.write_u8(0xff);
                }
                *key = h.clone().finish();
            }
            for len in (1..=max).rev() {
                let Some(key) = keys.get(len - 1) else {
                    continue;
                };
                let Some(lists) = self.phrases.get(key) else {
                    continue;
                };
                for &(list, count) in lists {
                    if count != FIXED {
                        let own = exclude.iter().filter(|e| **e == (list, *key)).count() as u32;
                        if count <= own {
                            continue;
                        }
                    }
                    let until = covered
                        .iter()
                        .find(|(l, _)| *l == list)
                        .map_or(0, |(_, u)| *u);
                    if until > i {
                        continue;
                    }
                    match covered.iter_mut().find(|(l, _)| *l == list) {
                        Some(c) => c.1 = i + len,
                        None => covered.push((list, i + len)),
                    }
                    out.push(GazMatch {
                        list,
                        start: i,
                        end: i + len,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_match_and_leave_one_out() {
        let mut g = Gazetteers::default();
        let city = g.list_id("city");
        let state = g.list_id("state");
        g.add(city, "New York", 1);
        g.add(city, "York", 2);
        g.add(state, "new york", FIXED);
        let toks = tag_tokens("from new york to york");
        let mut m = Vec::new();
        g.find(&toks, &[], &mut m);
        assert_eq!(
            m,
            [
                GazMatch {
                    list: city,
                    start: 1,
                    end: 3
                },
                GazMatch {
                    list: state,
                    start: 1,
                    end: 3
                },
                GazMatch {
                    list: city,
                    start: 4,
                    end: 5
                },
            ]
        );
        let ny = span_key(&toks, 1, 3).unwrap();
        g.find(&toks, &[(city, ny), (state, ny)], &mut m);
        assert_eq!(
            m,
            [
                GazMatch {
                    list: state,
                    start: 1,
                    end: 3
                },
                GazMatch {
                    list: city,
                    start: 2,
                    end: 3
                },
                GazMatch {
                    list: city,
                    start: 4,
                    end: 5
                },
            ]
        );
    }
}
