//! Embedded lists: `@sys.geo-country`, `@sys.geo-state`, `@sys.geo-city`, `@sys.language`,
//! `@sys.color`. Values are the canonical names of `data/gazetteer.txt`.

use super::words::Words;
use crate::entities::phrase::{self, longest_first, PhraseIndex, Piece};
use std::sync::OnceLock;

const DATA: &str = include_str!("../../data/gazetteer.txt");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Country,
    State,
    City,
    Language,
    Color,
}

impl Kind {
    pub fn from_entity(e: &str) -> Option<Kind> {
        Some(match e {
            "@sys.geo-country" => Kind::Country,
            "@sys.geo-state" | "@sys.geo-state-us" => Kind::State,
            "@sys.geo-city" | "@sys.geo-city-us" => Kind::City,
            "@sys.language" => Kind::Language,
            "@sys.color" => Kind::Color,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    kind: Kind,
    /// Index into `values`.
    value: usize,
    /// Must appear exactly as written (short upper-case codes such as "US", "CA").
    exact_case: Option<&'static str>,
    /// Must be capitalised in the text (the alias is also an ordinary word: "Male", "Polish").
    needs_capital: bool,
}

pub(crate) struct Gazetteer {
    index: PhraseIndex<Entry>,
    values: Vec<&'static str>,
}

/// One gazetteer hit: byte span and canonical value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GeoHit {
    pub start: usize,
    pub end: usize,
    pub value: &'static str,
}

impl Gazetteer {
    pub fn get() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(Gazetteer::load)
    }

    fn load() -> Gazetteer {
        let words = Words::get();
        let mut g = Gazetteer {
            index: PhraseIndex::default(),
            values: Vec::new(),
        };
        let mut kind = None;
        for line in DATA.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            kind = match line {
                "[country]" => Some(Kind::Country),
                "[state]" => Some(Kind::State),
                "[city]" => Some(Kind::City),
                "[language]" => Some(Kind::Language),
                "[color]" => Some(Kind::Color),
                _ => {
                    let Some(k) = kind else { continue };
                    let mut names = line.split('|');
                    let Some(canonical) = names.next() else {
                        continue;
                    };
                    let value = g.values.len();
                    g.values.push(canonical);
                    for alias in std::iter::once(canonical).chain(names) {
                        let short_code = alias.len() <= 3
                            && alias.chars().all(|c| c.is_ascii_uppercase() || c == '.');
                        let lower = alias.to_lowercase();
                        let needs_capital = k != Kind::Color && words.is_common(&lower);
                        let exact_case = short_code.then_some(alias);
                        g.index.insert(
                            alias,
                            Entry {
                                kind: k,
                                value,
                                exact_case,
                                needs_capital,
                            },
                        );
                    }
                    Some(k)
                }
            };
        }
        g
    }

    /// Non-overlapping (longest-first) hits of `kind` in `text`.
    pub fn find(&self, text: &str, ps: &[Piece], kind: Kind) -> Vec<GeoHit> {
        let mut hits = Vec::new();
        for h in self.index.find_all(ps) {
            let e = h.payload;
            let (Some(a), Some(b)) = (ps.get(h.first), ps.get(h.last.wrapping_sub(1))) else {
                continue;
            };
            let raw = text.get(a.start..b.end).unwrap_or_default();
            if e.kind != kind
                || e.exact_case.is_some_and(|c| c != raw)
                || (e.needs_capital && !raw.chars().next().is_some_and(char::is_uppercase))
            {
                continue;
            }
            if let Some(v) = self.values.get(e.value) {
                hits.push(GeoHit {
                    start: a.start,
                    end: b.end,
                    value: v,
                });
            }
        }
        let spans: Vec<(usize, usize)> = hits.iter().map(|h| (h.start, h.end)).collect();
        longest_first(&spans)
            .into_iter()
            .filter_map(|i| hits.get(i).cloned())
            .collect()
    }

    pub fn find_text(&self, text: &str, kind: Kind) -> Vec<GeoHit> {
        self.find(text, &phrase::pieces(text), kind)
    }
}
