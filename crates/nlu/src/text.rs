//! Tokenisation shared by the classifier, the tagger and the entity matchers.
//! Offsets are byte offsets into the original string (always on char boundaries).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    /// Lower-cased text of the token.
    pub norm: String,
}

/// Splits into word tokens (runs of alphanumerics, with inner apostrophes/hyphens kept) and
/// single punctuation tokens; whitespace is dropped.
pub fn tokenize(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c.is_whitespace() {
            continue;
        }
        if c.is_alphanumeric() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = iter.peek() {
                let joins = d.is_alphanumeric()
                    || ((d == '\'' || d == '’' || d == '-') && {
                        let mut look = iter.clone();
                        look.next();
                        matches!(look.peek(), Some(&(_, e)) if e.is_alphanumeric())
                    });
                if !joins {
                    break;
                }
                end = j + d.len_utf8();
                iter.next();
            }
            out.push(Token {
                start: i,
                end,
                norm: s[i..end].to_lowercase(),
            });
        } else {
            let end = i + c.len_utf8();
            out.push(Token {
                start: i,
                end,
                norm: s[i..end].to_lowercase(),
            });
        }
    }
    out
}

/// True when `start..end` of `s` begins and ends on word boundaries (no alphanumeric char
/// directly outside the span on either side).
pub fn on_word_boundaries(s: &str, start: usize, end: usize) -> bool {
    if start > end || end > s.len() || !s.is_char_boundary(start) || !s.is_char_boundary(end) {
        return false;
    }
    let before = s[..start].chars().next_back();
    let after = s[end..].chars().next();
    let inner_first = s[start..end].chars().next();
    let inner_last = s[start..end].chars().next_back();
    let bad_before = matches!((before, inner_first), (Some(b), Some(f)) if b.is_alphanumeric() && f.is_alphanumeric());
    let bad_after = matches!((after, inner_last), (Some(a), Some(l)) if a.is_alphanumeric() && l.is_alphanumeric());
    !bad_before && !bad_after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_words_and_punctuation() {
        let t = tokenize("I'd like a table at 10:00, please!");
        let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(
            norms,
            ["i'd", "like", "a", "table", "at", "10", ":", "00", ",", "please", "!"]
        );
        assert_eq!(&"I'd like"[t[0].start..t[0].end], "I'd");
    }

    #[test]
    fn boundaries() {
        assert!(!on_word_boundaries("people", 4, 5));
        assert!(on_word_boundaries("for 3 people", 4, 5));
    }
}
