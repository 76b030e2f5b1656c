//! Sparse text features for the intent classifier: word unigrams (unknown words collapse to one
//! `<unk>` feature), word bigrams, character n-grams of each word and entity-list matches. Features are hashed to
//! 64 bits with a fixed hasher, so featurising a query allocates only the token list.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::Hasher;

use crate::text::tokenize;

const K_WORD: u8 = 1;
const K_BIGRAM: u8 = 2;
const K_CHAR: u8 = 3;
const K_UNK: u8 = 4;
const K_NUM: u8 = 5;
const K_ENT: u8 = 6;

/// Character n-gram orders taken from each `<word>` (with boundary marks).
const CHAR_N: std::ops::RangeInclusive<usize> = 3..=5;
/// Character n-grams weigh less than word features.
const CHAR_WEIGHT: f32 = 0.35;
/// Word unigrams weigh more than bigrams, entity matches and character n-grams.
const WORD_WEIGHT: f32 = 1.4;

/// Weight of a feature kind, relative to its IDF.
fn kind_weight(kind: u8) -> f32 {
    match kind {
        K_CHAR => CHAR_WEIGHT,
        K_WORD => WORD_WEIGHT,
        _ => 1.0,
    }
}

/// Weight in the norm of a feature unseen in training (relative to its IDF).
const UNSEEN_WEIGHT: f32 = 0.55;

pub(crate) fn fhash(kind: u8, parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write_u8(kind);
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0xff);
    }
    tagged(kind, h.finish())
}

/// Puts the feature kind in the top 4 bits of a hash.
fn tagged(kind: u8, h: u64) -> u64 {
    (h & 0x0fff_ffff_ffff_ffff) | ((kind as u64) << 60)
}

fn kind_of(h: u64) -> u8 {
    (h >> 60) as u8
}

/// Lower-cased word tokens of `text` (punctuation dropped).
pub(crate) fn words(text: &str) -> Vec<String> {
    tokenize(text)
        .into_iter()
        .filter(|t| t.norm.chars().next().is_some_and(char::is_alphanumeric))
        .map(|t| t.norm)
        .collect()
}

fn is_number(w: &str) -> bool {
    !w.is_empty() && w.chars().all(|c| c.is_ascii_digit())
}

/// Maps a word to its form in unigram and bigram features.
fn mapped<'a>(w: &'a str, known: Option<&HashSet<u64>>) -> &'a str {
    if is_number(w) {
        "<num>"
    } else if known.is_none_or(|k| k.contains(&fhash(K_WORD, &[w]))) {
        w
    } else {
        "<unk>"
    }
}

/// Hashed features of one word list. `known` decides which words keep their own unigram
/// feature (and their identity in bigrams); the others become `<unk>`. `None` keeps every word.
/// `ents`: entity matches (word range `start..end`, list name), each adding an `ENT:<list>`
/// feature and bigrams of it with the words around the match.
pub(crate) fn raw_features(
    words: &[String],
    known: Option<&HashSet<u64>>,
    ents: &[(usize, usize, &str)],
    out: &mut Vec<u64>,
) {
    out.clear();
    for &(start, end, name) in ents {
        let before = match start.checked_sub(1) {
            None => "<s>",
            Some(i) => words.get(i).map_or("<s>", |w| mapped(w, known)),
        };
        let after = words.get(end).map_or("</s>", |w| mapped(w, known));
        out.push(fhash(K_ENT, &[name]));
        out.push(fhash(K_ENT, &[before, name]));
        out.push(fhash(K_ENT, &[name, after]));
    }
    let mut prev = "<s>";
    for w in words {
        let wh = fhash(K_WORD, &[w]);
        let mapped = if is_number(w) {
            out.push(fhash(K_NUM, &[]));
            "<num>"
        } else if known.is_none_or(|k| k.contains(&wh)) {
            out.push(wh);
            w.as_str()
        } else {
            out.push(fhash(K_UNK, &[]));
            "<unk>"
        };
        out.push(fhash(K_BIGRAM, &[prev, mapped]));
        prev = mapped;
        let padded: Vec<char> = std::iter::once('<')
            .chain(w.chars())
            .chain(std::iter::once('>'))
            .collect();
        for n in CHAR_N {
            if padded.len() < n {
                break;
            }
            for win in padded.windows(n) {
                let mut h = DefaultHasher::new();
                h.write_u8(K_CHAR);
                for c in win {
                    h.write_u32(*c as u32);
                }
                out.push(tagged(K_CHAR, h.finish()));
            }
        }
    }
    if !words.is_empty() {
        out.push(fhash(K_BIGRAM, &[prev, "</s>"]));
    }
    out.sort_unstable();
    out.dedup();
}

/// Hash of a word's unigram feature (for the known-word set).
pub(crate) fn word_hash(w: &str) -> u64 {
    fhash(K_WORD, &[w])
}

/// Maps hashed features to columns and holds their IDF weights.
#[derive(Debug, Clone, Default)]
pub(crate) struct FeatureSpace {
    pub index: HashMap<u64, u32>,
    pub idf: Vec<f32>,
    /// Weight given to features never seen in training (they count in the norm only).
    pub unseen_idf: f32,
}

impl FeatureSpace {
    /// Builds the space from the raw features of all training documents.
    pub fn fit(docs: &[Vec<u64>]) -> Self {
        let mut index = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        for d in docs {
            for h in d {
                let next = df.len() as u32;
                let id = *index.entry(*h).or_insert(next);
                if id == next {
                    df.push(0);
                }
                if let Some(c) = df.get_mut(id as usize) {
                    *c += 1;
                }
            }
        }
        let n = docs.len() as f32;
        let idf = df
            .iter()
            .map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0)
            .collect();
        let unseen_idf = ((1.0 + n) / 1.0).ln() + 1.0;
        FeatureSpace {
            index,
            idf,
            unseen_idf,
        }
    }

    /// L2-normalised TF-IDF vector (binary term frequency) as (column, value) pairs. Unseen
    /// features carry no column but take part in the norm, so a text far from everything seen
    /// in training gets a short vector and hence flat (low-confidence) scores.
    pub fn vectorize(&self, raw: &[u64], out: &mut Vec<(u32, f32)>) {
        out.clear();
        let mut norm2 = 0.0f32;
        for h in raw {
            match self.index.get(h) {
                Some(&id) => {
                    let v = self.idf.get(id as usize).copied().unwrap_or(1.0)
                        * kind_weight(kind_of(*h));
                    norm2 += v * v;
                    out.push((id, v));
                }
                None => {
                    let w = kind_weight(kind_of(*h));
                    norm2 += (UNSEEN_WEIGHT * w * self.unseen_idf).powi(2);
                }
            }
        }
        if norm2 > 0.0 {
            let inv = 1.0 / norm2.sqrt();
            out.iter_mut().for_each(|(_, v)| *v *= inv);
        }
    }
}
