//! The spoken bookings of `eval voice`: sentences generated from templates with a fixed seed, each
//! with the slot values a correct reading gives.
//!
//! Two disjoint sets: `tune` (for choosing thresholds, prompts, rules) and `heldout` (only for
//! reporting). They share no template and no name, and draw from different seeds, so a rule
//! tuned until the tune set passes has not seen a held-out sentence's wording or name.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::Serialize;

/// Which half of the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Set {
    Tune,
    Heldout,
}

impl std::str::FromStr for Set {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tune" => Ok(Set::Tune),
            "heldout" | "held-out" => Ok(Set::Heldout),
            other => Err(format!("unknown set `{other}` (tune or heldout)")),
        }
    }
}

/// The date a caller means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WantDate {
    /// Month and day (the year is the engine's choice: the next such day).
    MonthDay { month: u32, day: u32 },
    /// Tomorrow in the agent's time zone.
    Tomorrow,
}

/// What a correct reading of the booking fills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Want {
    pub person: String,
    pub date: WantDate,
    /// 24-hour `HH:MM`.
    pub time: String,
}

/// One scripted booking: the caller's turns and the slots they carry.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: String,
    /// `one-sentence` or `multi-turn`.
    pub kind: &'static str,
    pub turns: Vec<String>,
    pub want: Want,
}

/// Names `@sys.person` knows, split between the sets.
const NAMES_TUNE: &[&str] = &[
    "Anna", "David", "Sarah", "Michael", "Emma", "James", "Olivia", "Daniel", "Grace", "Henry",
    "Laura", "Peter", "Rachel", "Thomas", "Helen", "George",
];
const NAMES_HELDOUT: &[&str] = &[
    "Sophie", "William", "Lucy", "Robert", "Chloe", "Edward", "Hannah", "Jack", "Claire", "Simon",
    "Alice", "Mark", "Julia", "Oliver", "Kate", "Adam",
];

const ORDINALS: &[&str] = &[
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "twenty first",
    "twenty second",
    "twenty third",
    "twenty fourth",
    "twenty fifth",
    "twenty sixth",
    "twenty seventh",
    "twenty eighth",
];
const HOURS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
];

/// One-sentence templates: `{n}` name, `{d}` date phrase (with its preposition), `{t}` time
/// phrase (with "at"). Even indexes belong to the tune set, odd ones to the held-out set.
const SENTENCES: &[&str] = &[
    "I'd like to book a table for {n} {d} {t}",
    "a table for {n} {d} {t}, please",
    "can I reserve a table {d} {t} under the name {n}",
    "book a table {t} {d} for {n}",
    "hi, could I book a table {d} {t}? the name is {n}",
    "we'd like a table {d} {t} for {n}",
    "table for {n}, {d}, {t}",
    "I want to make a reservation for {n} {t} {d}",
    "hello, I'd like a table {t} {d}, it's for {n}",
    "could you book us a table {d} {t}, under {n}",
];

/// Multi-turn openings and answers (same parity rule).
const OPENINGS: &[&str] = &[
    "I'd like to book a table",
    "can I make a reservation?",
    "I want to book a table please",
    "hi, I need a table",
];
const NAME_ANSWERS: &[&str] = &["it's for {n}", "{n}", "the name is {n}", "under {n} please"];

/// A date phrase and what it means. Mostly absolute dates in the ways people say them; one in
/// eight is "tomorrow".
fn date_phrase(rng: &mut ChaCha8Rng) -> (String, WantDate) {
    if pick_index(rng, 8) == 0 {
        return ("tomorrow".into(), WantDate::Tomorrow);
    }
    let month = pick_index(rng, 12);
    let day = pick_index(rng, ORDINALS.len());
    let m = chrono::Month::try_from(month as u8 + 1).map_or("January", |m| m.name());
    let o = ORDINALS[day];
    let text = match pick_index(rng, 3) {
        0 => format!("on the {o} of {m}"),
        1 => format!("on {m} {o}"),
        _ => format!("for the {o} of {m}"),
    };
    (
        text,
        WantDate::MonthDay {
            month: month as u32 + 1,
            day: day as u32 + 1,
        },
    )
}

/// An evening or lunchtime time phrase and its 24-hour value.
fn time_phrase(rng: &mut ChaCha8Rng) -> (String, String) {
    // Restaurant hours: 12–22h.
    match pick_index(rng, 7) {
        0 => ("at noon".into(), "12:00".into()),
        1 => {
            let h = 5 + pick_index(rng, 5); // 6..10 pm
            (format!("at {} p m", HOURS[h]), format!("{:02}:00", h + 13))
        }
        2 => {
            let h = 5 + pick_index(rng, 5);
            (
                format!("at half past {} in the evening", HOURS[h]),
                format!("{:02}:30", h + 13),
            )
        }
        3 => {
            let h = 5 + pick_index(rng, 5);
            let (words, min) =
                [("fifteen", 15), ("thirty", 30), ("forty five", 45)][pick_index(rng, 3)];
            (
                format!("at {} {words} p m", HOURS[h]),
                format!("{:02}:{min:02}", h + 13),
            )
        }
        4 => {
            let h = 5 + pick_index(rng, 5); // quarter to 7..11 pm
            (
                format!("at quarter to {} in the evening", HOURS[h + 1]),
                format!("{:02}:45", h + 13),
            )
        }
        5 => {
            let h = pick_index(rng, 2); // 1 or 2 pm
            (
                format!("at {} o'clock in the afternoon", HOURS[h]),
                format!("{:02}:00", h + 13),
            )
        }
        _ => {
            let h = 5 + pick_index(rng, 4);
            (
                format!("at {} o'clock in the evening", HOURS[h]),
                format!("{:02}:00", h + 13),
            )
        }
    }
}

fn pick_index(rng: &mut ChaCha8Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// `pick` from the entries of `set`'s parity.
fn pick_of<'a>(rng: &mut ChaCha8Rng, all: &[&'a str], set: Set) -> &'a str {
    let offset = usize::from(set == Set::Heldout);
    let n = all.len().div_ceil(2) - usize::from(offset == 1 && all.len() % 2 == 1);
    all[pick_index(rng, n) * 2 + offset]
}

fn fill(template: &str, name: &str, date: &str, time: &str) -> String {
    template
        .replace("{n}", name)
        .replace("{d}", date)
        .replace("{t}", time)
}

/// The first `sentences` one-sentence bookings and `dialogs` multi-turn ones of `set`, from
/// `seed` (the same seed and counts give the same cases).
pub fn cases(set: Set, seed: u64, sentences: usize, dialogs: usize) -> Vec<Case> {
    // The set is part of the stream's seed: the halves never share a draw.
    let stream = seed
        .wrapping_mul(2)
        .wrapping_add(u64::from(set == Set::Heldout));
    let mut rng = ChaCha8Rng::seed_from_u64(stream);
    let names = match set {
        Set::Tune => NAMES_TUNE,
        Set::Heldout => NAMES_HELDOUT,
    };
    let tag = match set {
        Set::Tune => "t",
        Set::Heldout => "h",
    };
    let mut out = Vec::with_capacity(sentences + dialogs);
    for i in 0..sentences {
        let name = names[pick_index(&mut rng, names.len())];
        let (d, date) = date_phrase(&mut rng);
        let (t, time) = time_phrase(&mut rng);
        let template = pick_of(&mut rng, SENTENCES, set);
        out.push(Case {
            id: format!("{tag}s{i:03}"),
            kind: "one-sentence",
            turns: vec![fill(template, name, &d, &t)],
            want: Want {
                person: name.into(),
                date,
                time,
            },
        });
    }
    for i in 0..dialogs {
        let name = names[pick_index(&mut rng, names.len())];
        let (d, date) = date_phrase(&mut rng);
        let (t, time) = time_phrase(&mut rng);
        let opening = pick_of(&mut rng, OPENINGS, set);
        let answer = pick_of(&mut rng, NAME_ANSWERS, set);
        // The agent asks for the name, the date, then the time; a last turn repeats all three
        // for a bot that missed one (it hangs up once booked, so unneeded turns go unsaid).
        out.push(Case {
            id: format!("{tag}d{i:03}"),
            kind: "multi-turn",
            turns: vec![
                opening.to_string(),
                fill(answer, name, "", ""),
                d.clone(),
                t.clone(),
                format!("that's {name}, {d}, {t}"),
            ],
            want: Want {
                person: name.into(),
                date,
                time,
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_cases_and_the_sets_share_no_sentence_or_name() {
        let a = cases(Set::Tune, 7, 40, 8);
        let b = cases(Set::Tune, 7, 40, 8);
        assert_eq!(
            a.iter().map(|c| &c.turns).collect::<Vec<_>>(),
            b.iter().map(|c| &c.turns).collect::<Vec<_>>()
        );
        let h = cases(Set::Heldout, 7, 40, 8);
        for c in &h {
            assert!(NAMES_HELDOUT.contains(&c.want.person.as_str()), "{c:?}");
            assert!(!a.iter().any(|t| t.turns == c.turns), "{c:?} also in tune");
        }
        assert!(a
            .iter()
            .all(|c| NAMES_TUNE.contains(&c.want.person.as_str())));
        // Each set's one-sentence cases use only its own templates.
        let skeleton = |c: &Case| {
            c.turns[0]
                .replace(&c.want.person, "{n}")
                .split_whitespace()
                .next()
                .map(str::to_string)
        };
        let tune_starts: std::collections::BTreeSet<_> = a[..40].iter().map(skeleton).collect();
        assert!(tune_starts.len() >= 3, "{tune_starts:?}");
    }

    #[test]
    fn times_and_dates_are_what_the_words_say() {
        for c in cases(Set::Tune, 1, 200, 0) {
            let s = &c.turns[0];
            if s.contains("at noon") {
                assert_eq!(c.want.time, "12:00");
            }
            if s.contains("half past eight") {
                assert_eq!(c.want.time, "20:30");
            }
            if s.contains("quarter to seven") {
                assert_eq!(c.want.time, "18:45");
            }
            if s.contains("the ninth of January") || s.contains("January ninth") {
                assert_eq!(c.want.date, WantDate::MonthDay { month: 1, day: 9 });
            }
            let hh: u32 = c.want.time[..2].parse().unwrap();
            assert!((12..=22).contains(&hh), "{s}: {}", c.want.time);
        }
    }
}
