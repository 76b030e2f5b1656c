//! Cheap segmentation of a text into short candidate windows for date/time parsing. The duckling
//! time grammar is slow on long sentences (hundreds of ms on a 15-word sentence), fast on short
//! spans, so only the spans around temporal words are handed to it.

use crate::text::{tokenize, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Digits, calendar words, am/pm, ordinals: a window needs one of these (or a weak + cue).
    Strong,
    /// Number words ("seven"), "half", "quarter".
    Weak,
    /// Words that glue a temporal expression together ("at", "on", "next", "the").
    Conn,
    Other,
}

const STRONG: &[&str] = &[
    "now",
    "noon",
    "midnight",
    "midday",
    "morning",
    "afternoon",
    "evening",
    "night",
    "weekend",
    "week",
    "month",
    "year",
    "o'clock",
    "oclock",
    "am",
    "pm",
    "a.m",
    "p.m",
    "days",
    "weeks",
    "months",
    "years",
    "hours",
    "minutes",
    "hour",
    "minute",
    "day",
    "ago",
    "weekday",
    "fortnight",
    "eve",
    "mornings",
    "evenings",
];

const WEAK: &[&str] = &[
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fifteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "half",
    "quarter",
    "twenty-one",
    "twenty-two",
    "twenty-three",
    "thirty-one",
    "twenty-first",
    "twenty-second",
    "twenty-third",
    "thirty-first",
    "a",
    "an",
];

const CONN: &[&str] = &[
    // "January 9, 2022", "Sunday, the 9th": a comma inside a date joins its parts.
    ",",
    "at",
    "on",
    "the",
    "of",
    "in",
    "next",
    "last",
    "this",
    "coming",
    "from",
    "to",
    "until",
    "till",
    "between",
    "and",
    "by",
    "before",
    "after",
    "past",
    "around",
    "about",
    ":",
    "/",
    "-",
    ".",
    "within",
    "for",
    "early",
    "late",
    "mid",
    "end",
    "beginning",
    "start",
    "week's",
    "after",
    "day",
    "following",
];

/// "may", "sun", "mar", "sat", "second" are also ordinary words: temporal only with a neighbour.
const AMBIGUOUS: &[&str] = &["may", "sun", "mar", "sat", "second", "march", "wed"];

fn classify(t: &Token) -> Class {
    let w = t.norm.as_str();
    if w.chars().any(|c| c.is_ascii_digit()) {
        return Class::Strong;
    }
    if AMBIGUOUS.contains(&w) {
        return Class::Weak;
    }
    // Calendar names that are also ordinary words (sun, may, mar, sep) are not strong on their own.
    let calendar = super::calendar::is_day_name(w) && !matches!(w, "sun" | "may" | "mar" | "sep");
    if calendar || STRONG.contains(&w) || super::calendar::is_day_ordinal(w) {
        return Class::Strong;
    }
    if WEAK.contains(&w) {
        return Class::Weak;
    }
    if CONN.contains(&w) {
        return Class::Conn;
    }
    Class::Other
}

/// Leading words kept on a window because they change its meaning.
const LEAD: &[&str] = &[
    "at", "on", "in", "next", "last", "this", "coming", "from", "between", "by", "the", "mid",
    "end", "early", "late", "within", "before", "after", "until", "till", "around", "about",
];

/// Candidate windows (byte spans). Each window is further split before inner "at"/"on"/"by" so a
/// date and a time in one phrase come back as separate spans, in order; windows that only
/// differ by such a split share `group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    pub start: usize,
    pub end: usize,
    pub group: usize,
}

pub(crate) fn windows(text: &str) -> Vec<Window> {
    let toks = tokenize(text);
    let classes: Vec<Class> = toks.iter().map(classify).collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut group = 0;
    while i < toks.len() {
        if classes.get(i) == Some(&Class::Other) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < toks.len() && classes.get(j) != Some(&Class::Other) {
            j += 1;
        }
        // toks[i..j] is a run; trim connectors not in LEAD at the start and all at the end.
        let mut a = i;
        while a < j
            && classes.get(a) == Some(&Class::Conn)
            && !LEAD.contains(&toks[a].norm.as_str())
        {
            a += 1;
        }
        let mut b = j;
        while b > a && classes.get(b - 1) == Some(&Class::Conn) {
            b -= 1;
        }
        let run = &classes[a..b];
        let has_strong = run.contains(&Class::Strong);
        let weak_with_cue = run.contains(&Class::Weak)
            && toks[a..b].iter().any(|t| {
                matches!(
                    t.norm.as_str(),
                    "at" | "past" | "to" | "half" | "quarter" | "until" | "till" | "from"
                )
            });
        // "on the second", "the second of March": the ordinal that is also a word is a day
        // after "on the"/"by the" or before "of".
        let day_second = (a + 1..b).any(|k| {
            toks[k].norm == "second"
                && toks[k - 1].norm == "the"
                && (toks.get(k + 1).is_some_and(|t| t.norm == "of")
                    || k >= 2
                        && matches!(toks[k - 2].norm.as_str(), "on" | "by" | "until" | "till"))
        });
        let ambiguous_alone = b == a + 1 && AMBIGUOUS.contains(&toks[a].norm.as_str());
        if a < b && (has_strong || weak_with_cue || day_second) && !ambiguous_alone {
            // Split before inner "at"/"on"/"by"/"for": "in the evening for the 23rd of July"
            // is a time and a date, not the evening of the 23rd.
            let mut s = a;
            for k in a + 1..b {
                if matches!(toks[k].norm.as_str(), "at" | "on" | "by" | "for") {
                    let mut e = k - 1;
                    while e > s && toks[e].norm == "," {
                        e -= 1;
                    }
                    out.push(Window {
                        start: toks[s].start,
                        end: toks[e].end,
                        group,
                    });
                    s = k;
                }
            }
            out.push(Window {
                start: toks[s].start,
                end: toks[b - 1].end,
                group,
            });
            group += 1;
        }
        i = j.max(i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(t: &str) -> Vec<(&str, usize)> {
        windows(t)
            .into_iter()
            .map(|w| (&t[w.start..w.end], w.group))
            .collect()
    }

    #[test]
    fn finds_and_splits_windows() {
        assert_eq!(
            spans("I'd like to book a table at 10:00 am on 01/09/2022 for Tanya"),
            [("at 10:00 am", 0), ("on 01/09/2022", 0)]
        );
        assert_eq!(
            spans("for 4 people tomorrow at half past seven"),
            [("4", 0), ("tomorrow", 1), ("at half past seven", 1)]
        );
        assert_eq!(
            spans("my bike needs a tune up"),
            Vec::<(&str, usize)>::new()
        );
        assert_eq!(spans("next friday please"), [("next friday", 0)]);
        assert_eq!(spans("I may come"), Vec::<(&str, usize)>::new());
        assert_eq!(
            spans("a table at 10am on January 9, 2022 for Tanya"),
            [("at 10am", 0), ("on January 9, 2022", 0)]
        );
        assert_eq!(spans("at 10am, please"), [("at 10am", 0)]);
    }
}
