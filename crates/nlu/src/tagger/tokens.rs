//! Tagger tokens: the shared tokenizer's tokens, with a possessive `'s` split off its word
//! ("Adele's" → "Adele" + "'s") so that a name can end before it.

use crate::text::tokenize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tok {
    pub start: usize,
    pub end: usize,
    /// Lower-cased text.
    pub norm: String,
}

pub(crate) fn tag_tokens(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    for t in tokenize(text) {
        let cut = ["'s", "’s"].iter().find_map(|suf| {
            let stem = t.norm.strip_suffix(suf)?;
            (!stem.is_empty() && t.end >= t.start + suf.len()).then(|| t.end - suf.len())
        });
        match cut {
            Some(c) if text.is_char_boundary(c) && c > t.start => {
                out.push(Tok {
                    start: t.start,
                    end: c,
                    norm: text[t.start..c].to_lowercase(),
                });
                out.push(Tok {
                    start: c,
                    end: t.end,
                    norm: text[c..t.end].to_lowercase(),
                });
            }
            _ => out.push(Tok {
                start: t.start,
                end: t.end,
                norm: t.norm,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_possessive() {
        let t = tag_tokens("Play Adele’s song, it's great");
        let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(
            norms,
            ["play", "adele", "’s", "song", ",", "it", "'s", "great"]
        );
        assert_eq!((t[1].start, t[1].end, t[2].end), (5, 10, 14));
    }
}
