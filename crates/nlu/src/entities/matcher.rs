//! [`EntityMatcher`]: developer entities (map, list, regexp) with synonyms, fuzzy matching and
//! list templates that reference other entities (`@sys.number:n`).

use super::phrase::{self, longest_first, PhraseIndex, Piece};
use super::template::Template;
use super::EntityMatch;
use crate::agent::{EntityKind, EntityType};
use crate::sysent::{SysContext, SysExtractor};
use crate::NluError;
use regex::{Regex, RegexBuilder};
use serde_json::Value;
use std::collections::HashMap;

/// Developer entity matcher, built once per agent; `Send + Sync`.
#[derive(Debug)]
pub struct EntityMatcher {
    types: Vec<TypeMatcher>,
    by_name: HashMap<String, usize>,
    /// For template synonyms that reference system entities.
    sys: SysExtractor,
}

#[derive(Debug)]
struct TypeMatcher {
    /// `@Name`.
    tag: String,
    exact: PhraseIndex<usize>,
    /// (normalised synonym, value index) for fuzzy matching; empty unless fuzzy is allowed.
    fuzzy: Vec<(String, usize)>,
    /// (sorted words, value index) of multi-word synonyms, matched in any word order; empty
    /// unless fuzzy is allowed.
    bags: Vec<(String, usize)>,
    fuzzy_max_pieces: usize,
    values: Vec<String>,
    regexes: Vec<Regex>,
    templates: Vec<Template>,
}

/// A candidate span: byte offsets, value and a score (longer and exact wins).
struct Cand {
    start: usize,
    end: usize,
    value: Value,
}

impl EntityMatcher {
    pub fn new(entities: &[EntityType]) -> Result<Self, NluError> {
        let mut types = Vec::with_capacity(entities.len());
        let mut by_name = HashMap::new();
        for et in entities {
            by_name.insert(et.name.clone(), types.len());
            types.push(TypeMatcher::build(et)?);
        }
        Ok(EntityMatcher {
            types,
            by_name,
            sys: SysExtractor::new(),
        })
    }

    /// Matches of the named developer entities (names with or without `@`; `None` = all) in
    /// `text`, longest-first and non-overlapping per entity type, sorted by start.
    pub fn extract(&self, text: &str, only: Option<&[&str]>, ctx: &SysContext) -> Vec<EntityMatch> {
        let ps = phrase::pieces(text);
        let mut out = Vec::new();
        for tm in self.selected(only) {
            out.extend(tm.extract(self, text, &ps, ctx));
        }
        out.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
        out
    }

    /// The value when the whole (trimmed) `text` answers a prompt for `entity`: an exact full-text
    /// synonym or pattern match first, else the longest match inside the text.
    pub fn resolve_answer(
        &self,
        text: &str,
        entity: &str,
        ctx: &SysContext,
    ) -> Option<EntityMatch> {
        let tm = self.get(entity)?;
        let ps = phrase::pieces(text);
        let (first, last) = (ps.first()?, ps.last()?);
        let whole = tm.extract(self, text, &ps, ctx);
        if let Some(m) = whole
            .iter()
            .find(|m| m.start <= first.start && m.end >= last.end)
        {
            return Some(m.clone());
        }
        whole
            .into_iter()
            .max_by_key(|m| (m.end - m.start, std::cmp::Reverse(m.start)))
    }

    /// Entity names (without `@`) this matcher knows.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.types.iter().map(|t| t.tag.trim_start_matches('@'))
    }

    fn get(&self, name: &str) -> Option<&TypeMatcher> {
        self.by_name
            .get(name.trim_start_matches('@'))
            .and_then(|&i| self.types.get(i))
    }

    fn selected<'a>(
        &'a self,
        only: Option<&'a [&'a str]>,
    ) -> Box<dyn Iterator<Item = &'a TypeMatcher> + 'a> {
        match only {
            None => Box::new(self.types.iter()),
            Some(names) => Box::new(names.iter().filter_map(|n| self.get(n))),
        }
    }

    /// Matches of one developer entity, used by templates (`@Other:alias`).
    pub(super) fn extract_one(
        &self,
        name: &str,
        text: &str,
        ps: &[Piece],
        ctx: &SysContext,
    ) -> Vec<EntityMatch> {
        self.get(name)
            .map(|tm| tm.extract(self, text, ps, ctx))
            .unwrap_or_default()
    }
}

impl TypeMatcher {
    fn build(et: &EntityType) -> Result<Self, NluError> {
        let mut tm = TypeMatcher {
            tag: format!("@{}", et.name),
            exact: PhraseIndex::default(),
            fuzzy: Vec::new(),
            bags: Vec::new(),
            fuzzy_max_pieces: 0,
            values: Vec::new(),
            regexes: Vec::new(),
            templates: Vec::new(),
        };
        for entry in &et.entries {
            match et.kind {
                EntityKind::Regexp => {
                    for pat in std::iter::once(&entry.value).chain(entry.synonyms.iter()) {
                        if pat.trim().is_empty() || tm.regexes.iter().any(|r| r.as_str() == pat) {
                            continue;
                        }
                        let re = RegexBuilder::new(pat)
                            .case_insensitive(true)
                            .size_limit(1 << 22)
                            .build()
                            .map_err(|e| NluError::Entity {
                                entity: et.name.clone(),
                                message: format!("bad regexp `{pat}`: {e}"),
                            })?;
                        tm.regexes.push(re);
                    }
                }
                EntityKind::Map => {
                    let idx = tm.values.len();
                    tm.values.push(entry.value.clone());
                    for syn in std::iter::once(&entry.value).chain(entry.synonyms.iter()) {
                        tm.add_synonym(syn, idx, et.allow_fuzzy_extraction);
                    }
                }
                EntityKind::List => {
                    let syns: Vec<&String> = if entry.synonyms.is_empty() {
                        vec![&entry.value]
                    } else {
                        entry.synonyms.iter().collect()
                    };
                    for syn in syns {
                        if syn.contains('@') {
                            if let Some(t) = Template::parse(syn) {
                                tm.templates.push(t);
                                continue;
                            }
                        }
                        let idx = tm.values.len();
                        tm.values.push(syn.clone());
                        tm.add_synonym(syn, idx, et.allow_fuzzy_extraction);
                    }
                }
            }
        }
        Ok(tm)
    }

    fn add_synonym(&mut self, syn: &str, idx: usize, fuzzy: bool) {
        if !self.exact.insert(syn, idx) || !fuzzy {
            return;
        }
        let ps = phrase::pieces(syn);
        if ps.len() > 1 && ps.iter().all(Piece::is_word) {
            self.fuzzy_max_pieces = self.fuzzy_max_pieces.max(ps.len());
            self.bags.push((bag_of(&ps), idx));
        }
        let norm = phrase::key_of(&ps);
        // Very short synonyms are too ambiguous to match approximately.
        if norm.chars().count() >= 6 {
            self.fuzzy_max_pieces = self.fuzzy_max_pieces.max(ps.len());
            self.fuzzy.push((norm, idx));
        }
    }

    fn extract(
        &self,
        m: &EntityMatcher,
        text: &str,
        ps: &[Piece],
        ctx: &SysContext,
    ) -> Vec<EntityMatch> {
        let mut cands = Vec::new();
        let value_of = |i: usize| Value::String(self.values.get(i).cloned().unwrap_or_default());
        for hit in self.exact.find_all(ps) {
            if let (Some(a), Some(b)) = (ps.get(hit.first), ps.get(hit.last.wrapping_sub(1))) {
                cands.push(Cand {
                    start: a.start,
                    end: b.end,
                    value: value_of(*hit.payload),
                });
            }
        }
        for re in &self.regexes {
            for mt in re.find_iter(text) {
                if !mt.as_str().trim().is_empty()
                    && crate::text::on_word_boundaries(text, mt.start(), mt.end())
                {
                    cands.push(Cand {
                        start: mt.start(),
                        end: mt.end(),
                        value: Value::String(mt.as_str().to_string()),
                    });
                }
            }
        }
        for t in &self.templates {
            for (start, end, value) in t.find(m, &m.sys, text, ps, ctx) {
                cands.push(Cand { start, end, value });
            }
        }
        if !self.fuzzy.is_empty() || !self.bags.is_empty() {
            self.fuzzy_candidates(
                ps,
                &cands.iter().map(|c| (c.start, c.end)).collect::<Vec<_>>(),
                &mut cands,
                value_of,
            );
        }
        let spans: Vec<(usize, usize)> = cands.iter().map(|c| (c.start, c.end)).collect();
        longest_first(&spans)
            .into_iter()
            .filter_map(|i| cands.get(i))
            .map(|c| EntityMatch {
                start: c.start,
                end: c.end,
                entity: self.tag.clone(),
                value: c.value.clone(),
                original: text.get(c.start..c.end).unwrap_or_default().to_string(),
            })
            .collect()
    }

    /// Approximate matches over word windows not already covered by exact matches: the words of a
    /// multi-word synonym in another order (Dialogflow's fuzzy matching), or a typo. Conservative:
    /// the window must have as many pieces as the synonym, similar length, and Damerau-Levenshtein
    /// distance 1 (2 for synonyms of 9+ chars); synonyms under 6 chars never match fuzzily.
    fn fuzzy_candidates(
        &self,
        ps: &[Piece],
        exact: &[(usize, usize)],
        out: &mut Vec<Cand>,
        value_of: impl Fn(usize) -> Value,
    ) {
        let mut window = String::new();
        for first in 0..ps.len() {
            for n in 1..=self.fuzzy_max_pieces {
                let Some(win) = ps.get(first..first + n) else {
                    break;
                };
                if !win.iter().all(Piece::is_word) {
                    break;
                }
                let (start, end) = (win[0].start, win[n - 1].end);
                if n > 1 {
                    let bag = bag_of(win);
                    if let Some((_, idx)) = self.bags.iter().find(|(b, _)| *b == bag) {
                        out.push(Cand {
                            start,
                            end,
                            value: value_of(*idx),
                        });
                        continue;
                    }
                }
                if exact.iter().any(|&(s, e)| start < e && end > s) {
                    continue;
                }
                window.clear();
                window.push_str(&phrase::key_of(win));
                let wlen = window.chars().count();
                if wlen < 5 {
                    continue;
                }
                let best = self
                    .fuzzy
                    .iter()
                    .filter(|(syn, _)| syn.split(' ').count() == n)
                    .filter_map(|(syn, idx)| {
                        let slen = syn.chars().count();
                        if slen.abs_diff(wlen) > 2 {
                            return None;
                        }
                        let d = strsim::damerau_levenshtein(&window, syn);
                        let allowed = if slen >= 9 { 2 } else { 1 };
                        (d >= 1 && d <= allowed).then_some((d, *idx))
                    })
                    .min();
                if let Some((_, idx)) = best {
                    out.push(Cand {
                        start,
                        end,
                        value: value_of(idx),
                    });
                }
            }
        }
    }
}

/// The words of `ps`, sorted and joined: equal for the same words in any order.
fn bag_of(ps: &[Piece]) -> String {
    let mut w: Vec<&str> = ps.iter().map(|p| p.norm.as_str()).collect();
    w.sort_unstable();
    w.join(" ")
}
