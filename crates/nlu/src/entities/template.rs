//! List-entity synonyms that reference other entities, e.g. `@sys.number:count @Fruit:fruit` or
//! `@sys.date:date please` (DF composite entities). A match yields `{"count": 3, "fruit": "apple"}`.

use super::matcher::EntityMatcher;
use super::phrase::{self, Piece};
use super::EntityMatch;
use crate::sysent::{SysContext, SysExtractor};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Normalised literal piece.
    Word(String),
    /// `@entity:alias` (entity kept with `@`).
    Slot { entity: String, alias: String },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses a synonym with at least one `@entity:alias` reference; `None` when it has none.
    pub fn parse(syn: &str) -> Option<Template> {
        let mut parts = Vec::new();
        for word in syn.split_whitespace() {
            if let Some(rest) = word.strip_prefix('@') {
                let (entity, alias) = match rest.split_once(':') {
                    Some((e, a)) => (e, a),
                    None => (rest, rest.rsplit('.').next().unwrap_or(rest)),
                };
                if entity.is_empty() || alias.is_empty() {
                    return None;
                }
                parts.push(Part::Slot {
                    entity: format!("@{entity}"),
                    alias: alias.to_string(),
                });
            } else {
                parts.extend(phrase::pieces(word).into_iter().map(|p| Part::Word(p.norm)));
            }
        }
        parts
            .iter()
            .any(|p| matches!(p, Part::Slot { .. }))
            .then_some(Template { parts })
    }

    /// All matches `(start, end, value)` of this template in the text.
    pub fn find(
        &self,
        m: &EntityMatcher,
        sys: &SysExtractor,
        text: &str,
        ps: &[Piece],
        ctx: &SysContext,
    ) -> Vec<(usize, usize, Value)> {
        // Candidate matches per slot, computed once.
        let slot_matches: Vec<Vec<EntityMatch>> = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Slot { entity, .. } if entity.starts_with("@sys.") => {
                    sys.extract(text, &[entity.as_str()], ctx)
                }
                Part::Slot { entity, .. } => m.extract_one(entity, text, ps, ctx),
                Part::Word(_) => Vec::new(),
            })
            .collect();
        let mut out = Vec::new();
        for first in 0..ps.len() {
            let mut at = first;
            let mut fields = Map::new();
            let mut ok = true;
            for (part, cands) in self.parts.iter().zip(&slot_matches) {
                let Some(piece) = ps.get(at) else {
                    ok = false;
                    break;
                };
                match part {
                    Part::Word(w) => {
                        if &piece.norm != w {
                            ok = false;
                            break;
                        }
                        at += 1;
                    }
                    Part::Slot { alias, .. } => {
                        let Some(hit) = cands
                            .iter()
                            .filter(|c| c.start == piece.start)
                            .max_by_key(|c| c.end)
                        else {
                            ok = false;
                            break;
                        };
                        fields.insert(alias.clone(), hit.value.clone());
                        while ps.get(at).is_some_and(|p| p.start < hit.end) {
                            at += 1;
                        }
                    }
                }
            }
            if ok && at > first {
                if let (Some(a), Some(b)) = (ps.get(first), ps.get(at - 1)) {
                    out.push((a.start, b.end, Value::Object(fields)));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_slots_and_words() {
        let t = Template::parse("@sys.number:count big @Fruit:fruit").unwrap();
        assert_eq!(
            t.parts,
            [
                Part::Slot {
                    entity: "@sys.number".into(),
                    alias: "count".into()
                },
                Part::Word("big".into()),
                Part::Slot {
                    entity: "@Fruit".into(),
                    alias: "fruit".into()
                },
            ]
        );
        assert!(Template::parse("no refs here").is_none());
    }
}
