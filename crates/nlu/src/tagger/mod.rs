//! Slot tagger trained at load time from annotated training phrases.
//!
//! A linear-chain CRF over BIO labels (one B/I pair per slot) with lexical, shape and context
//! features, plus B/I marks from phrase lists: the values annotated in training for each slot
//! (left out of their own example while training, so the model learns how far to trust them on
//! new text), caller-supplied gazetteers, built-in lexicons, and entity-extractor hints.

mod augment;
mod crf;
mod features;
mod gazetteer;
mod intent;
mod lexicon;
mod tokens;

use std::collections::HashMap;

pub(crate) use intent::train_for_intent;

use crf::{Constraints, Crf, Seq, TrainParams};
use features::{sentence_features, Mark};
use gazetteer::{span_key, GazMatch, Gazetteers, FIXED};
use tokens::{tag_tokens, Tok};

use crate::entities::EntityMatch;
use crate::NluError;

/// L2 weight of the CRF objective and L-BFGS iteration cap.
const C2: f64 = 0.1;
const MAX_ITER: usize = 150;
/// Augmented copies per annotated training phrase (see [`augment`]).
const N_AUG: usize = 2;
const AUG_SEED: u64 = 0x7a66_0002;

/// A slot value in a text: byte offsets `start..end`.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotSpan {
    pub start: usize,
    pub end: usize,
    pub slot: String,
}

/// One annotated training phrase, with the entity matches found in it.
#[derive(Debug, Clone)]
pub struct TaggedExample {
    pub text: String,
    pub spans: Vec<SlotSpan>,
    pub hints: Vec<EntityMatch>,
}

/// Immutable after training; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct SlotTagger {
    slots: Vec<String>,
    attrs: HashMap<u64, u32>,
    gaz: Gazetteers,
    crf: Option<Crf>,
}

/// A training phrase's tokens, labels and own (list, phrase) occurrences to leave out.
type Prepared = (Vec<Tok>, Vec<usize>, Vec<(u32, u64)>);

/// Label ids: 0 = O, 1 + 2k = B-slot k, 2 + 2k = I-slot k.
fn constraints(n_slots: usize) -> Constraints {
    let n = 1 + 2 * n_slots;
    let is_inside = |l: usize| l > 0 && l.is_multiple_of(2);
    let mut allowed = vec![true; n * n];
    for prev in 0..n {
        for cur in (0..n).filter(|&c| is_inside(c)) {
            allowed[prev * n + cur] = prev == cur || prev + 1 == cur;
        }
    }
    Constraints {
        allowed,
        allowed_start: (0..n).map(|l| !is_inside(l)).collect(),
    }
}

/// Token range covered by byte range `start..end` (tokens starting inside it).
fn token_range(toks: &[Tok], start: usize, end: usize) -> Option<(usize, usize)> {
    let first = toks
        .iter()
        .position(|t| t.start >= start && t.start < end)?;
    let last = toks
        .iter()
        .rposition(|t| t.start >= start && t.start < end)?;
    Some((first, last + 1))
}

fn check_span(text: &str, start: usize, end: usize) -> bool {
    start < end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end)
}

impl SlotTagger {
    /// `gazetteers`: (slot or entity name, known values) used as features.
    pub fn train(
        examples: &[TaggedExample],
        gazetteers: &[(String, Vec<String>)],
    ) -> Result<Self, NluError> {
        let mut slots: Vec<String> = Vec::new();
        for ex in examples {
            for s in &ex.spans {
                if !check_span(&ex.text, s.start, s.end) {
                    return Err(NluError::Other(format!(
                        "slot `{}` span {}..{} is not a valid range of {:?}",
                        s.slot, s.start, s.end, ex.text
                    )));
                }
                if !slots.contains(&s.slot) {
                    slots.push(s.slot.clone());
                }
            }
        }
        let mut gaz = Gazetteers::default();
        for (name, values) in gazetteers {
            let id = gaz.list_id(&format!("P:{name}"));
            for v in values {
                gaz.add(id, v, FIXED);
            }
        }
        // Value pools for augmentation: training values and same-named gazetteers.
        let mut pools: augment::Pools = HashMap::new();
        for ex in examples {
            for s in &ex.spans {
                if let Some(v) = ex.text.get(s.start..s.end) {
                    pools.entry(s.slot.clone()).or_default().push(v.to_string());
                }
            }
        }
        for (name, values) in gazetteers {
            if let Some(p) = pools.get_mut(name) {
                p.extend(values.iter().cloned());
            }
        }
        for p in pools.values_mut() {
            p.sort();
            p.dedup();
        }
        let mut rng = crate::classifier::noise::SplitMix::new(AUG_SEED);
        let augmented: Vec<TaggedExample> = examples
            .iter()
            .flat_map(|ex| augment::variants(ex, &pools, N_AUG, &mut rng))
            .collect();
        let n_original = examples.len();
        // Tokenise, label, and collect the training values of each slot (original phrases only;
        // an augmented phrase leaves its inserted values out of the lists like an original one).
        let mut prepared: Vec<Prepared> = Vec::with_capacity(examples.len());
        for (idx, ex) in examples.iter().chain(&augmented).enumerate() {
            let toks = tag_tokens(&ex.text);
            let mut labels = vec![0usize; toks.len()];
            let mut own = Vec::new();
            for s in &ex.spans {
                let Some(k) = slots.iter().position(|x| *x == s.slot) else {
                    continue;
                };
                let Some((a, b)) = token_range(&toks, s.start, s.end) else {
                    continue;
                };
                if labels.get(a..b).is_none_or(|l| l.iter().any(|&x| x != 0)) {
                    continue; // overlapping annotation: keep the first
                }
                labels[a] = 1 + 2 * k;
                labels[a + 1..b].iter_mut().for_each(|l| *l = 2 + 2 * k);
                let list = gaz.list_id(&format!("T:{}", s.slot));
                if let Some(key) = span_key(&toks, a, b) {
                    if idx < n_original {
                        gaz.add_key(list, key, b - a, 1);
                    }
                    own.push((list, key));
                }
            }
            prepared.push((toks, labels, own));
        }
        if slots.is_empty() {
            return Ok(SlotTagger {
                slots,
                attrs: HashMap::new(),
                gaz,
                crf: None,
            });
        }
        let mut attrs: HashMap<u64, u32> = HashMap::new();
        let mut seqs = Vec::with_capacity(prepared.len());
        let mut matches = Vec::new();
        let mut feats = Vec::new();
        for (ex, (toks, labels, own)) in examples.iter().chain(&augmented).zip(&prepared) {
            if toks.is_empty() {
                continue;
            }
            gaz.find(toks, own, &mut matches);
            let marks = marks(&gaz, &matches, toks, &ex.text, &ex.hints);
            sentence_features(&ex.text, toks, &marks, &mut feats);
            let ids = feats
                .iter()
                .map(|f| {
                    f.iter()
                        .map(|h| {
                            let next = attrs.len() as u32;
                            *attrs.entry(*h).or_insert(next)
                        })
                        .collect()
                })
                .collect();
            seqs.push(Seq {
                attrs: ids,
                labels: labels.clone(),
            });
        }
        let n = 1 + 2 * slots.len();
        let crf = Crf::train(
            &seqs,
            attrs.len(),
            n,
            &constraints(slots.len()),
            TrainParams {
                c2: C2,
                max_iter: MAX_ITER,
            },
        );
        Ok(SlotTagger {
            slots,
            attrs,
            gaz,
            crf: Some(crf),
        })
    }

    /// Slot names this tagger can output.
    pub fn slots(&self) -> &[String] {
        &self.slots
    }

    /// Slot spans on token boundaries (byte offsets), left to right.
    pub fn tag(&self, text: &str, hints: &[EntityMatch]) -> Vec<SlotSpan> {
        let Some(crf) = &self.crf else {
            return Vec::new();
        };
        let toks = tag_tokens(text);
        if toks.is_empty() {
            return Vec::new();
        }
        let mut matches = Vec::new();
        self.gaz.find(&toks, &[], &mut matches);
        let marks = marks(&self.gaz, &matches, &toks, text, hints);
        let mut feats = Vec::new();
        sentence_features(text, &toks, &marks, &mut feats);
        let ids: Vec<Vec<u32>> = feats
            .iter()
            .map(|f| {
                f.iter()
                    .filter_map(|h| self.attrs.get(h).copied())
                    .collect()
            })
            .collect();
        let labels = crf.decode(&ids);
        let mut out: Vec<SlotSpan> = Vec::new();
        for (tok, &l) in toks.iter().zip(&labels) {
            if l == 0 {
                continue;
            }
            let k = (l - 1) / 2;
            let Some(slot) = self.slots.get(k) else {
                continue;
            };
            match out.last_mut() {
                Some(last) if l.is_multiple_of(2) && last.slot == *slot => last.end = tok.end,
                _ => out.push(SlotSpan {
                    start: tok.start,
                    end: tok.end,
                    slot: slot.clone(),
                }),
            }
        }
        out
    }
}

/// Phrase-list matches (own lists and built-in lexicons) and hints as token-range marks.
fn marks<'a>(
    gaz: &'a Gazetteers,
    matches: &[GazMatch],
    toks: &[Tok],
    text: &str,
    hints: &'a [EntityMatch],
) -> Vec<Mark<'a>> {
    let mut out: Vec<Mark<'a>> = matches
        .iter()
        .filter_map(|m| {
            let source = gaz.names.get(m.list as usize)?;
            Some(Mark {
                source,
                start: m.start,
                end: m.end,
            })
        })
        .collect();
    let lex = lexicon::builtin();
    let mut found = Vec::new();
    lex.find(toks, &[], &mut found);
    for m in found {
        let Some(source) = lex.names.get(m.list as usize) else {
            continue;
        };
        if toks
            .get(m.start..m.end)
            .is_some_and(|ts| lexicon::accept(source, text, ts))
        {
            out.push(Mark {
                source,
                start: m.start,
                end: m.end,
            });
        }
    }
    for h in hints {
        if !check_span(text, h.start, h.end) {
            continue;
        }
        if let Some((a, b)) = token_range(toks, h.start, h.end) {
            out.push(Mark {
                source: &h.entity,
                start: a,
                end: b,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
