//! Normalised word pieces and a hash index of token sequences, shared by the developer entity
//! matcher and the system-entity gazetteers.

use crate::text;
use std::collections::{HashMap, HashSet};

/// One normalised piece of a text: a word (hyphenated words are split) or a punctuation mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    pub start: usize,
    pub end: usize,
    /// Lower-cased text with typographic apostrophes folded to `'`.
    pub norm: String,
}

impl Piece {
    pub fn is_word(&self) -> bool {
        self.norm.chars().next().is_some_and(char::is_alphanumeric)
    }
}

/// Splits `s` into pieces: tokens of [`text::tokenize`], with inner hyphens splitting words
/// ("tune-up" → "tune", "up") so that "tune-up" and "tune up" normalise alike.
pub(crate) fn pieces(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    for tok in text::tokenize(s) {
        let raw = s.get(tok.start..tok.end).unwrap_or_default();
        let mut part_start = tok.start;
        for (i, c) in raw.char_indices() {
            if c == '-' && i > 0 {
                push_piece(&mut out, s, part_start, tok.start + i);
                part_start = tok.start + i + c.len_utf8();
            }
        }
        push_piece(&mut out, s, part_start, tok.end);
    }
    out
}

fn push_piece(out: &mut Vec<Piece>, s: &str, start: usize, end: usize) {
    if let Some(raw) = s.get(start..end) {
        if !raw.is_empty() {
            out.push(Piece {
                start,
                end,
                norm: normalize(raw),
            });
        }
    }
}

/// Lower-cases and folds typographic apostrophes.
pub(crate) fn normalize(s: &str) -> String {
    s.to_lowercase().replace('’', "'")
}

/// The lookup key of a phrase: its normalised pieces joined by single spaces.
pub(crate) fn key_of(pieces: &[Piece]) -> String {
    let mut k = String::new();
    for (i, p) in pieces.iter().enumerate() {
        if i > 0 {
            k.push(' ');
        }
        k.push_str(&p.norm);
    }
    k
}

/// One occurrence of an indexed phrase in a text: piece range `first..last` (exclusive) and the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PhraseHit<'a, T> {
    pub first: usize,
    pub last: usize,
    pub payload: &'a T,
}

/// Exact phrase index: normalised piece sequences → payloads.
#[derive(Debug, Clone)]
pub(crate) struct PhraseIndex<T> {
    map: HashMap<String, Vec<T>>,
    first_pieces: HashSet<String>,
    max_len: usize,
}

impl<T> Default for PhraseIndex<T> {
    fn default() -> Self {
        PhraseIndex {
            map: HashMap::new(),
            first_pieces: HashSet::new(),
            max_len: 0,
        }
    }
}

impl<T: PartialEq> PhraseIndex<T> {
    /// Adds `phrase` (any casing, any hyphenation); empty phrases are ignored. Returns false
    /// when the phrase has no pieces.
    pub fn insert(&mut self, phrase: &str, payload: T) -> bool {
        let ps = pieces(phrase);
        let Some(first) = ps.first() else {
            return false;
        };
        self.first_pieces.insert(first.norm.clone());
        self.max_len = self.max_len.max(ps.len());
        let slot = self.map.entry(key_of(&ps)).or_default();
        if !slot.contains(&payload) {
            slot.push(payload);
        }
        true
    }

    #[cfg(test)]
    /// Payloads of exactly this phrase.
    pub fn get(&self, phrase: &str) -> &[T] {
        self.map
            .get(&key_of(&pieces(phrase)))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Every occurrence (all starts, all lengths) of indexed phrases in `ps`.
    pub fn find_all<'a>(&'a self, ps: &[Piece]) -> Vec<PhraseHit<'a, T>> {
        let mut hits = Vec::new();
        let mut key = String::new();
        for first in 0..ps.len() {
            if !self.first_pieces.contains(&ps[first].norm) {
                continue;
            }
            key.clear();
            let end = ps.len().min(first + self.max_len);
            for (last, piece) in ps.iter().enumerate().take(end).skip(first) {
                if last > first {
                    key.push(' ');
                }
                key.push_str(&piece.norm);
                if let Some(payloads) = self.map.get(&key) {
                    hits.extend(payloads.iter().map(|payload| PhraseHit {
                        first,
                        last: last + 1,
                        payload,
                    }));
                }
            }
        }
        hits
    }
}

/// Greedy longest-first selection of non-overlapping byte spans; returns chosen indices sorted
/// by start. Ties prefer the earlier start, then the lower index.
pub(crate) fn longest_first(spans: &[(usize, usize)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| {
        let (s, e) = spans[i];
        (std::cmp::Reverse(e.saturating_sub(s)), s, i)
    });
    let mut chosen: Vec<usize> = Vec::new();
    for i in order {
        let (s, e) = spans[i];
        if chosen.iter().all(|&j| {
            let (cs, ce) = spans[j];
            e <= cs || s >= ce
        }) {
            chosen.push(i);
        }
    }
    chosen.sort_by_key(|&i| (spans[i].0, i));
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphens_split_and_apostrophes_fold() {
        let n: Vec<String> = pieces("My tune-up, Kid’s")
            .into_iter()
            .map(|p| p.norm)
            .collect();
        assert_eq!(n, ["my", "tune", "up", ",", "kid's"]);
    }

    #[test]
    fn index_finds_multiword() {
        let mut ix = PhraseIndex::default();
        ix.insert("tune up", 1);
        ix.insert("Flat Tire", 2);
        let ps = pieces("a tune-up and a flat tire");
        let hits: Vec<(usize, usize, i32)> = ix
            .find_all(&ps)
            .iter()
            .map(|h| (h.first, h.last, *h.payload))
            .collect();
        assert_eq!(hits, [(1, 3, 1), (5, 7, 2)]);
        assert_eq!(ix.get("TUNE-UP"), &[1]);
    }

    #[test]
    fn longest_first_prefers_long() {
        assert_eq!(longest_first(&[(0, 4), (0, 9), (5, 9), (10, 12)]), [1, 3]);
    }
}
