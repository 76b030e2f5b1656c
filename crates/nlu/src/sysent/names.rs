//! `@sys.person`, `@sys.given-name`, `@sys.last-name` from US Census name lists plus context cues
//! ("for Nicole", "my name is …", capitalised tokens).

use super::words::Words;
use crate::text::{tokenize, Token};
use std::collections::HashSet;
use std::sync::OnceLock;

const DATA: &str = include_str!("../../data/names.txt");

struct Lists {
    given: HashSet<&'static str>,
    last: HashSet<&'static str>,
}

fn lists() -> &'static Lists {
    static L: OnceLock<Lists> = OnceLock::new();
    L.get_or_init(|| {
        let (mut given, mut last) = (HashSet::new(), HashSet::new());
        let mut section = "";
        for line in DATA.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                section = line;
                continue;
            }
            match section {
                "[given]" => given.insert(line),
                "[last]" => last.insert(line),
                _ => false,
            };
        }
        Lists { given, last }
    })
}

/// One name found: token range and the parts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NameHit {
    pub start: usize,
    pub end: usize,
    pub given: Option<(usize, usize)>,
    pub last: Option<(usize, usize)>,
}

/// Cue strength of the words before token `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cue {
    None,
    /// "for", "with", "under", "hi", "dear", "and"…
    Weak,
    /// "my name is", "i'm", "this is", "call me", "named", titles.
    Strong,
}

fn cue_before(toks: &[Token], i: usize) -> Cue {
    let w = |back: usize| -> &str {
        i.checked_sub(back)
            .and_then(|j| toks.get(j))
            .map_or("", |t| t.norm.as_str())
    };
    let (p1, p2, p3) = (w(1), w(2), w(3));
    let strong = matches!(
        p1,
        "named" | "called" | "name's" | "i'm" | "im" | "mr" | "mrs" | "ms" | "dr" | "miss"
    ) || (p1 == "is" && matches!(p2, "name" | "this" | "it" | "here"))
        || (p1 == "me" && p2 == "call")
        || (p1 == "am" && p2 == "i")
        || (p1 == "." && matches!(p2, "mr" | "mrs" | "ms" | "dr"))
        || (p1 == "name" && p2 == "the" && p3 == "under")
        || (p1 == "of" && p2 == "name");
    if strong {
        return Cue::Strong;
    }
    if matches!(
        p1,
        "for"
            | "with"
            | "under"
            | "hi"
            | "hello"
            | "hey"
            | "dear"
            | "thanks"
            | "and"
            | "it's"
            | "its"
            | "meet"
    ) {
        return Cue::Weak;
    }
    Cue::None
}

fn is_capitalised(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

fn is_word(t: &Token) -> bool {
    t.norm
        .chars()
        .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        && t.norm.chars().next().is_some_and(char::is_alphabetic)
}

fn sentence_initial(toks: &[Token], i: usize) -> bool {
    i == 0
        || toks
            .get(i - 1)
            .is_some_and(|t| matches!(t.norm.as_str(), "." | "!" | "?" | ":" | "\""))
}

/// Whether token `i` (a known given name) reads as a name here.
fn accept_given(text: &str, toks: &[Token], i: usize, lowercase_text: bool) -> bool {
    let Some(t) = toks.get(i) else { return false };
    let words = Words::get();
    if !is_word(t) || words.is_never_name(&t.norm) {
        return false;
    }
    let raw = text.get(t.start..t.end).unwrap_or_default();
    let cap_mid = is_capitalised(raw) && !sentence_initial(toks, i);
    let cue = cue_before(toks, i);
    if words.is_soft(&t.norm) || t.norm.chars().count() <= 2 {
        return cap_mid || cue == Cue::Strong;
    }
    is_capitalised(raw) || cue > Cue::None || lowercase_text
}

/// All person names in `text`: a known given name read as a name, optionally followed by a last
/// name (known, or capitalised after a capitalised given name); or a title + last name.
pub(crate) fn find(text: &str) -> Vec<NameHit> {
    let toks = tokenize(text);
    let l = lists();
    let words = Words::get();
    let lowercase_text = !text.chars().any(char::is_uppercase);
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(t) = toks.get(i) {
        if l.given.contains(t.norm.as_str()) && accept_given(text, &toks, i, lowercase_text) {
            let mut hit = NameHit {
                start: t.start,
                end: t.end,
                given: Some((t.start, t.end)),
                last: None,
            };
            if let Some(n) = toks.get(i + 1) {
                let raw = text.get(n.start..n.end).unwrap_or_default();
                let given_cap = is_capitalised(text.get(t.start..t.end).unwrap_or_default());
                let known = l.last.contains(n.norm.as_str()) && !words.is_never_name(&n.norm);
                let cap_pair = given_cap && is_capitalised(raw) && !words.is_never_name(&n.norm);
                if is_word(n) && ((known && (is_capitalised(raw) || lowercase_text)) || cap_pair) {
                    hit.end = n.end;
                    hit.last = Some((n.start, n.end));
                    i += 1;
                }
            }
            out.push(hit);
        } else if cue_before(&toks, i) == Cue::Strong
            && matches!(
                toks.get(i.wrapping_sub(1)).map(|p| p.norm.as_str()),
                Some("mr" | "mrs" | "ms" | "dr" | "miss" | ".")
            )
            && is_word(t)
            && !words.is_never_name(&t.norm)
            && (l.last.contains(t.norm.as_str())
                || is_capitalised(text.get(t.start..t.end).unwrap_or_default()))
        {
            out.push(NameHit {
                start: t.start,
                end: t.end,
                given: None,
                last: Some((t.start, t.end)),
            });
        } else if unlisted_given(text, &toks, i) {
            out.push(NameHit {
                start: t.start,
                end: t.end,
                given: Some((t.start, t.end)),
                last: None,
            });
        }
        i += 1;
    }
    out
}

/// A name missing from the census lists ("a table for Tamiya", "my name is Oyelaran"): a
/// capitalised word in mid-sentence, right after a name cue ("for", "under", "with", "named",
/// "my name is"…), that is no common word nor a place or language, and ends the phrase (what
/// follows is punctuation, the end, or a lower-case word). Like Dialogflow's learned
/// `@sys.person`, which reads names it has never seen from their context.
fn unlisted_given(text: &str, toks: &[Token], i: usize) -> bool {
    let Some(t) = toks.get(i) else { return false };
    let raw = text.get(t.start..t.end).unwrap_or_default();
    let cue = cue_before(toks, i);
    let cue_ok = cue == Cue::Strong
        || (cue == Cue::Weak
            && matches!(
                toks.get(i.wrapping_sub(1)).map(|p| p.norm.as_str()),
                Some("for" | "under" | "with")
            ));
    let ends_phrase = toks.get(i + 1).is_none_or(|n| {
        !is_word(n) || !is_capitalised(text.get(n.start..n.end).unwrap_or_default())
    });
    cue_ok
        && ends_phrase
        && is_word(t)
        && t.norm.chars().count() >= 3
        && is_capitalised(raw)
        && !raw.chars().skip(1).any(char::is_uppercase)
        && !sentence_initial(toks, i)
        && !Words::get().is_common(&t.norm)
        && !is_place_or_language(raw)
}

fn is_place_or_language(word: &str) -> bool {
    use super::gazetteer::{Gazetteer, Kind};
    let g = Gazetteer::get();
    [Kind::Country, Kind::State, Kind::City, Kind::Language]
        .into_iter()
        .any(|k| !g.find_text(word, k).is_empty())
}

/// Lenient reading of a prompt answer: strips lead-ins ("it's", "my name is", "this is") and
/// accepts one to three words that are not ordinary function words.
pub(crate) fn answer(text: &str) -> Option<NameHit> {
    if let Some(h) = find(text).into_iter().next() {
        return Some(h);
    }
    let toks = tokenize(text);
    let words = Words::get();
    let mut i = 0;
    while let Some(t) = toks.get(i) {
        let lead = matches!(
            t.norm.as_str(),
            "it's"
                | "its"
                | "it"
                | "is"
                | "my"
                | "name"
                | "name's"
                | "i'm"
                | "im"
                | "i"
                | "am"
                | "this"
                | "call"
                | "me"
                | "the"
                | "under"
                | "for"
                | "just"
                | "yes"
                | "sure"
                | "ok"
                | "okay"
                | ","
                | "."
                | "mr"
                | "mrs"
                | "ms"
                | "dr"
        );
        if !lead {
            break;
        }
        i += 1;
    }
    let rest: Vec<&Token> = toks
        .iter()
        .skip(i)
        .filter(|t| !matches!(t.norm.as_str(), "." | "!" | "," | "please"))
        .collect();
    if rest.is_empty()
        || rest.len() > 3
        || !rest
            .iter()
            .all(|t| is_word(t) && !words.is_never_name(&t.norm))
    {
        return None;
    }
    let (first, last) = (rest.first()?, rest.last()?);
    let last_part = (rest.len() > 1).then_some((last.start, last.end));
    Some(NameHit {
        start: first.start,
        end: last.end,
        given: Some((first.start, first.end)),
        last: last_part,
    })
}

/// Title-cases a name as written in lower case ("nicole" → "Nicole"); keeps other casings.
pub(crate) fn display(raw: &str) -> String {
    if raw.chars().any(char::is_uppercase) {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut start = true;
    for c in raw.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            start = false;
        } else {
            out.push(c);
            if c.is_whitespace() || c == '-' {
                start = true;
            }
        }
    }
    out
}
