//! Token observation features for the CRF: word identity and neighbours (±2), bigrams, shape,
//! affixes, and B/I marks of phrase-list matches and entity hints at the token and its
//! neighbours. Features are 64-bit hashes; only those seen in training get a weight.

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;

use super::tokens::Tok;

/// A phrase-list match or entity hint, as a token range with a source name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark<'a> {
    pub source: &'a str,
    pub start: usize,
    pub end: usize,
}

struct H(DefaultHasher);

fn feat(kind: &str, parts: &[&str]) -> u64 {
    let mut h = H(DefaultHasher::new());
    h.0.write(kind.as_bytes());
    for p in parts {
        h.0.write_u8(0xff);
        h.0.write(p.as_bytes());
    }
    h.0.finish()
}

fn shape(s: &str) -> String {
    let mut out = String::new();
    let mut last = '\0';
    for c in s.chars() {
        let k = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_ascii_digit() {
            'd'
        } else {
            c
        };
        if k != last {
            out.push(k);
            last = k;
        }
    }
    out
}

fn affix(s: &str, n: usize, suffix: bool) -> Option<&str> {
    let count = s.chars().count();
    if count <= n {
        return None;
    }
    let idx = if suffix {
        s.char_indices().nth(count - n)?.0
    } else {
        s.char_indices().nth(n)?.0
    };
    Some(if suffix { &s[idx..] } else { &s[..idx] })
}

/// Features of every token of `text`. `marks` are phrase-list matches and hints.
pub(crate) fn sentence_features(text: &str, toks: &[Tok], marks: &[Mark], out: &mut Vec<Vec<u64>>) {
    out.clear();
    let norm = |i: isize| -> &str {
        if i < 0 {
            "<s>"
        } else {
            toks.get(i as usize).map_or("</s>", |t| t.norm.as_str())
        }
    };
    let shapes: Vec<String> = toks
        .iter()
        .map(|t| shape(text.get(t.start..t.end).unwrap_or("")))
        .collect();
    let shape_at = |i: isize| -> &str {
        if i < 0 {
            "<s>"
        } else {
            shapes.get(i as usize).map_or("</s>", |s| s.as_str())
        }
    };
    for (i, tok) in toks.iter().enumerate() {
        let ii = i as isize;
        let mut f = Vec::with_capacity(32 + 3 * marks.len());
        f.push(feat("bias", &[]));
        f.push(feat("w", &[&tok.norm]));
        f.push(feat("w-1", &[norm(ii - 1)]));
        f.push(feat("w+1", &[norm(ii + 1)]));
        f.push(feat("w-2", &[norm(ii - 2)]));
        f.push(feat("w+2", &[norm(ii + 2)]));
        f.push(feat("b-1", &[norm(ii - 1), &tok.norm]));
        f.push(feat("b+1", &[&tok.norm, norm(ii + 1)]));
        f.push(feat("s", &[shape_at(ii)]));
        f.push(feat("s-1", &[shape_at(ii - 1)]));
        f.push(feat("s+1", &[shape_at(ii + 1)]));
        f.push(feat(
            "ss",
            &[shape_at(ii - 1), shape_at(ii), shape_at(ii + 1)],
        ));
        for (name, n, suf) in [("p3", 3, false), ("s3", 3, true), ("s2", 2, true)] {
            if let Some(a) = affix(&tok.norm, n, suf) {
                f.push(feat(name, &[a]));
            }
        }
        for m in marks {
            let bio = |j: usize| -> Option<&str> {
                if j == m.start {
                    Some("B")
                } else if j > m.start && j < m.end {
                    Some("I")
                } else {
                    None
                }
            };
            if let Some(b) = bio(i) {
                f.push(feat("g", &[m.source, b]));
                f.push(feat("g", &[m.source]));
                if m.end == i + 1 {
                    f.push(feat("gL", &[m.source]));
                }
            }
            if let Some(b) = i.checked_sub(1).and_then(bio) {
                f.push(feat("g-1", &[m.source, b]));
            }
            if let Some(b) = bio(i + 1) {
                f.push(feat("g+1", &[m.source, b]));
            }
        }
        f.sort_unstable();
        f.dedup();
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_affixes() {
        assert_eq!(shape("McDonald's"), "XxXx'x");
        assert_eq!(shape("2017"), "d");
        assert_eq!(affix("playlist", 3, true), Some("ist"));
        assert_eq!(affix("playlist", 3, false), Some("pla"));
        assert_eq!(affix("the", 3, false), None);
        assert_eq!(affix("café", 2, true), Some("fé"));
    }
}
