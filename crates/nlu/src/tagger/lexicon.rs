//! Built-in lexicons shared by every tagger (built once, on first use): countries, US states
//! (names; postal codes only when written in capitals), cities, languages and colours from the
//! crate's geo gazetteer, given and family names from the crate's census name list, and small
//! date/time and number word lists.

use std::sync::OnceLock;

use super::gazetteer::{Gazetteers, FIXED};
use super::tokens::Tok;

const GEO: &str = include_str!("../../data/gazetteer.txt");
const NAMES: &str = include_str!("../../data/names.txt");
const TIME_WORDS: &str = include_str!("../../data/ml/time_words.txt");
const NUMBER_WORDS: &str = include_str!("../../data/ml/number_words.txt");

/// List whose matches count only when the text is in capitals ("CA", not "ca").
pub(crate) const STATE_CODE: &str = "L:state-code";

/// Adds `[section]`-structured lines (`value|alias|…`) of `src` to lists `L:<section>`.
fn add_sections(g: &mut Gazetteers, src: &str) {
    let mut list = None;
    for line in src.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            list = Some(g.list_id(&format!("L:{name}")));
            continue;
        }
        let Some(id) = list else { continue };
        for alias in line.split('|').map(str::trim).filter(|a| !a.is_empty()) {
            let is_code =
                alias.chars().count() <= 3 && alias.chars().all(|c| c.is_ascii_uppercase());
            if is_code {
                if g.names.get(id as usize).is_some_and(|n| n == "L:state") {
                    let code = g.list_id(STATE_CODE);
                    g.add(code, alias, FIXED);
                }
                continue;
            }
            g.add(id, alias, FIXED);
        }
    }
}

fn add_words(g: &mut Gazetteers, list: &str, src: &str) {
    let id = g.list_id(list);
    for w in src
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace)
    {
        g.add(id, w, FIXED);
    }
}

/// The shared built-in lexicons.
pub(crate) fn builtin() -> &'static Gazetteers {
    static LEX: OnceLock<Gazetteers> = OnceLock::new();
    LEX.get_or_init(|| {
        let mut g = Gazetteers::default();
        add_sections(&mut g, GEO);
        add_sections(&mut g, NAMES);
        add_words(&mut g, "L:time", TIME_WORDS);
        add_words(&mut g, "L:number", NUMBER_WORDS);
        g
    })
}

/// Whether a match of list `name` over `toks` is acceptable in `text` (case rules).
pub(crate) fn accept(name: &str, text: &str, toks: &[Tok]) -> bool {
    name != STATE_CODE
        || toks.iter().all(|t| {
            text.get(t.start..t.end)
                .is_some_and(|s| s.chars().all(|c| c.is_uppercase()))
        })
}

#[cfg(test)]
mod tests {
    use super::super::tokens::tag_tokens;
    use super::*;

    fn lists(text: &str) -> Vec<String> {
        let toks = tag_tokens(text);
        let mut m = Vec::new();
        builtin().find(&toks, &[], &mut m);
        m.iter()
            .filter(|x| {
                accept(
                    &builtin().names[x.list as usize],
                    text,
                    &toks[x.start..x.end],
                )
            })
            .map(|x| format!("{}@{}-{}", builtin().names[x.list as usize], x.start, x.end))
            .collect()
    }

    #[test]
    fn finds_geo_names_times_and_codes() {
        let l = lists("weather in new york , CA on friday");
        assert!(l.contains(&"L:state@2-4".to_string()), "{l:?}");
        assert!(lists("rain in Paris").contains(&"L:city@2-3".to_string()));
        assert!(l.contains(&"L:state-code@5-6".to_string()), "{l:?}");
        assert!(l.contains(&"L:time@7-8".to_string()), "{l:?}");
        assert!(!lists("it is ca").iter().any(|x| x.starts_with(STATE_CODE)));
    }
}
