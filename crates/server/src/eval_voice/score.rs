//! Scoring one call from the server's own record (`GET /v1/calls/{id}`), and the sums.

use super::corpus::{Case, Set, Want, WantDate};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The slots of the restaurant agent's booking, in the order it asks for them.
pub const SLOTS: [&str; 3] = ["person", "date", "time"];

/// One slot as the server filled it.
#[derive(Debug, Clone, Serialize)]
pub struct SlotCheck {
    pub correct: bool,
    /// The value as the server holds it (`None`: not filled).
    pub got: Option<String>,
}

/// One call, scored.
#[derive(Debug, Clone, Serialize)]
pub struct CallOutcome {
    pub id: String,
    pub kind: &'static str,
    pub set: Set,
    pub voice: String,
    pub transport: String,
    pub call_id: String,
    /// What the caller said, turn by turn (as far as the call went).
    pub said: Vec<String>,
    /// What the server recognised, one entry per speech turn it took.
    pub heard: Vec<String>,
    /// The ASR confidence of each speech turn.
    pub asr_confidence: Vec<Option<f64>>,
    pub booked: bool,
    /// Speech turns the server took up to and including the booking.
    pub turns_needed: Option<usize>,
    /// Booked on the first speech turn with every slot right.
    pub one_turn_success: bool,
    /// After the call's last speech turn (one-sentence: after the sentence).
    pub slots: BTreeMap<&'static str, SlotCheck>,
    /// The same first sentence as text through the detect-intent API: a wrong slot here is a
    /// reading error, not a hearing one.
    pub text_slots: Option<BTreeMap<&'static str, SlotCheck>>,
    pub problems: Vec<String>,
}

/// Whether `got` (a DF parameter value) is `want`'s slot. `today` is the agent's date at the call.
pub fn check(slot: &str, got: &Value, want: &Want, today: NaiveDate) -> SlotCheck {
    let text = match got {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    let Some(text) = text else {
        return SlotCheck {
            correct: false,
            got: None,
        };
    };
    let correct = match slot {
        "person" => text.trim().eq_ignore_ascii_case(want.person.trim()),
        "date" => text
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .is_some_and(|d| match want.date {
                WantDate::MonthDay { month, day } => d.month() == month && d.day() == day,
                WantDate::Tomorrow => today.succ_opt() == Some(d),
            }),
        "time" => text.get(10..16) == Some(&format!("T{}", want.time)),
        _ => false,
    };
    SlotCheck {
        correct,
        got: Some(text),
    }
}

/// Every slot of `params` checked against `want`.
pub fn check_all(
    params: &Value,
    want: &Want,
    today: NaiveDate,
) -> BTreeMap<&'static str, SlotCheck> {
    SLOTS
        .iter()
        .map(|s| (*s, check(s, &params[*s], want, today)))
        .collect()
}

/// Whether a turn of the record is the booking.
fn books(turn: &Value) -> bool {
    turn["intent"] == "Table Booker"
        && turn["botText"]
            .as_str()
            .is_some_and(|t| t.starts_with("Table booked"))
}

/// Scores a call of `case` from the server's record of it.
pub fn score(
    case: &Case,
    set: Set,
    voice: &str,
    transport: &str,
    record: &Value,
    today: NaiveDate,
) -> CallOutcome {
    let speech: Vec<&Value> = record["turns"]
        .as_array()
        .map(|a| a.iter().filter(|t| t["inputKind"] == "speech").collect())
        .unwrap_or_default();
    let booked_at = speech.iter().position(|t| books(t));
    let last = booked_at.map_or_else(|| speech.last().copied(), |i| speech.get(i).copied());
    let slots = check_all(
        last.map_or(&Value::Null, |t| &t["parameters"]),
        &case.want,
        today,
    );
    let one_turn_success = booked_at == Some(0) && slots.values().all(|s| s.correct);
    let spoken = booked_at.map_or(case.turns.len(), |i| (i + 1).min(case.turns.len()));
    CallOutcome {
        id: case.id.clone(),
        kind: case.kind,
        set,
        voice: voice.into(),
        transport: transport.into(),
        call_id: record["id"].as_str().unwrap_or_default().into(),
        said: case.turns[..spoken].to_vec(),
        heard: speech
            .iter()
            .map(|t| t["callerText"].as_str().unwrap_or_default().to_string())
            .collect(),
        asr_confidence: speech.iter().map(|t| t["asrConfidence"].as_f64()).collect(),
        booked: booked_at.is_some(),
        turns_needed: booked_at.map(|i| i + 1),
        one_turn_success,
        slots,
        text_slots: None,
        problems: Vec::new(),
    }
}

/// Rates over a group of calls.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub calls: usize,
    pub one_sentence_calls: usize,
    /// Share of one-sentence calls booked in one turn with every slot right.
    pub one_turn_success: Option<f64>,
    /// Share of calls booked at all (any number of turns, right or wrong slots).
    pub booked: Option<f64>,
    /// Share of slots right (calls × 3 slots), and per slot.
    pub slot_accuracy: Option<f64>,
    pub per_slot: BTreeMap<&'static str, f64>,
    /// The same sentences as text: the reading part of the slot errors.
    pub text_slot_accuracy: Option<f64>,
    pub multi_turn_calls: usize,
    /// Mean speech turns to a booking of the multi-turn calls that booked.
    pub mean_turns_needed: Option<f64>,
    pub multi_turn_booked: Option<f64>,
    /// Calls whose record has no speech turn at all (on a loaded machine: the server's ASR
    /// timed out), counted in the rates above as failures.
    pub heard_nothing: usize,
}

fn rate(hits: usize, n: usize) -> Option<f64> {
    (n > 0).then(|| hits as f64 / n as f64)
}

impl Summary {
    pub fn of<'a>(calls: impl Iterator<Item = &'a CallOutcome>) -> Summary {
        let calls: Vec<&CallOutcome> = calls.collect();
        let one: Vec<_> = calls.iter().filter(|c| c.kind == "one-sentence").collect();
        let multi: Vec<_> = calls.iter().filter(|c| c.kind == "multi-turn").collect();
        let slots = calls.iter().flat_map(|c| c.slots.values());
        let (right, all) = slots.fold((0, 0), |(r, a), s| (r + usize::from(s.correct), a + 1));
        let per_slot = SLOTS
            .iter()
            .filter_map(|s| {
                let n = calls.len();
                let hits = calls.iter().filter(|c| c.slots[s].correct).count();
                rate(hits, n).map(|r| (*s, r))
            })
            .collect();
        let text = calls.iter().filter_map(|c| c.text_slots.as_ref());
        let (t_right, t_all) = text
            .flat_map(|m| m.values())
            .fold((0, 0), |(r, a), s| (r + usize::from(s.correct), a + 1));
        let needed: Vec<usize> = multi.iter().filter_map(|c| c.turns_needed).collect();
        Summary {
            calls: calls.len(),
            one_sentence_calls: one.len(),
            one_turn_success: rate(one.iter().filter(|c| c.one_turn_success).count(), one.len()),
            booked: rate(calls.iter().filter(|c| c.booked).count(), calls.len()),
            slot_accuracy: rate(right, all),
            per_slot,
            text_slot_accuracy: rate(t_right, t_all),
            multi_turn_calls: multi.len(),
            mean_turns_needed: (!needed.is_empty())
                .then(|| needed.iter().sum::<usize>() as f64 / needed.len() as f64),
            multi_turn_booked: rate(needed.len(), multi.len()),
            heard_nothing: calls.iter().filter(|c| c.heard.is_empty()).count(),
        }
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub set: Set,
    pub seed: u64,
    pub server: String,
    pub overall: Summary,
    pub by_transport: BTreeMap<String, Summary>,
    pub by_voice: BTreeMap<String, Summary>,
    pub calls: Vec<CallOutcome>,
}

impl Report {
    pub fn new(set: Set, seed: u64, server: String, calls: Vec<CallOutcome>) -> Report {
        let group = |key: fn(&CallOutcome) -> &str| {
            let mut keys: Vec<&str> = calls.iter().map(key).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.iter()
                .map(|k| {
                    let s = Summary::of(calls.iter().filter(|c| key(c) == *k));
                    (k.to_string(), s)
                })
                .collect::<BTreeMap<_, _>>()
        };
        Report {
            set,
            seed,
            server,
            overall: Summary::of(calls.iter()),
            by_transport: group(|c| c.transport.as_str()),
            by_voice: group(|c| c.voice.as_str()),
            calls,
        }
    }
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{:.0}%", r * 100.0))
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "eval voice: set {:?}, seed {}, {} calls ({})",
            self.set, self.seed, self.overall.calls, self.server
        )?;
        writeln!(
            f,
            "{:<22} {:>5} {:>9} {:>7} {:>6} {:>7} {:>6} {:>6} {:>6} {:>8} {:>5}",
            "group",
            "calls",
            "1-turn ok",
            "booked",
            "slots",
            "person",
            "date",
            "time",
            "text",
            "turns",
            "lost"
        )?;
        let mut rows: Vec<(String, &Summary)> = vec![("all".into(), &self.overall)];
        rows.extend(self.by_transport.iter().map(|(k, s)| (k.clone(), s)));
        rows.extend(self.by_voice.iter().map(|(k, s)| (k.clone(), s)));
        for (name, s) in rows {
            let slot = |k: &str| pct(s.per_slot.get(k).copied());
            writeln!(
                f,
                "{:<22} {:>5} {:>9} {:>7} {:>6} {:>7} {:>6} {:>6} {:>6} {:>8} {:>5}",
                name,
                s.calls,
                pct(s.one_turn_success),
                pct(s.booked),
                pct(s.slot_accuracy),
                slot("person"),
                slot("date"),
                slot("time"),
                pct(s.text_slot_accuracy),
                s.mean_turns_needed
                    .map_or_else(|| "-".into(), |m| format!("{m:.2}")),
                s.heard_nothing
            )?;
        }
        let wrong: Vec<&CallOutcome> = self
            .calls
            .iter()
            .filter(|c| c.slots.values().any(|s| !s.correct) || !c.booked)
            .collect();
        if !wrong.is_empty() {
            writeln!(f, "\nmissed ({}):", wrong.len())?;
        }
        for c in wrong {
            let bad: Vec<String> = c
                .slots
                .iter()
                .filter(|(_, s)| !s.correct)
                .map(|(k, s)| format!("{k}={}", s.got.as_deref().unwrap_or("∅")))
                .collect();
            writeln!(
                f,
                "  {} {} {}: said {:?} heard {:?} wrong [{}]",
                c.id,
                c.transport,
                c.voice,
                c.said.first().map(String::as_str).unwrap_or(""),
                c.heard,
                bad.join(", ")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn want() -> Want {
        Want {
            person: "Anna".into(),
            date: WantDate::MonthDay { month: 1, day: 9 },
            time: "20:30".into(),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
    }

    #[test]
    fn slots_compare_by_meaning_not_by_format() {
        let w = want();
        assert!(check("person", &json!({"name": "anna"}), &w, today()).correct);
        assert!(!check("person", &json!({"name": "Ana"}), &w, today()).correct);
        assert!(check("date", &json!("2027-01-09T12:00:00+00:00"), &w, today()).correct);
        assert!(!check("date", &json!("2027-01-19T12:00:00+00:00"), &w, today()).correct);
        assert!(check("time", &json!("2026-03-01T20:30:00+00:00"), &w, today()).correct);
        assert!(!check("time", &json!("2026-03-01T08:30:00+00:00"), &w, today()).correct);
        let empty = check("time", &json!(""), &w, today());
        assert!(!empty.correct && empty.got.is_none());
        let tomorrow = Want {
            date: WantDate::Tomorrow,
            ..w
        };
        assert!(
            check(
                "date",
                &json!("2026-03-02T12:00:00+00:00"),
                &tomorrow,
                today()
            )
            .correct
        );
    }

    #[test]
    fn a_call_record_gives_success_turns_and_slots() {
        let case = Case {
            id: "ts000".into(),
            kind: "one-sentence",
            turns: vec!["a table for Anna on the ninth of January at half past eight".into()],
            want: want(),
        };
        let booked = json!({"id": "CA1", "turns": [
            {"inputKind": "event", "callerText": "WELCOME", "intent": "Default Welcome Intent",
             "parameters": {}, "botText": "Welcome!"},
            {"inputKind": "speech", "callerText": "a table for Anna on the 9th of January at 8.30pm",
             "asrConfidence": 0.8, "intent": "Table Booker",
             "parameters": {"person": {"name": "Anna"}, "date": "2027-01-09T12:00:00+00:00",
                            "time": "2026-03-01T20:30:00+00:00"},
             "botText": "Table booked for Anna at 8:30 PM on January 9. Thank you!"}
        ]});
        let c = score(&case, Set::Tune, "flite:awb", "twilio", &booked, today());
        assert!(c.booked && c.one_turn_success, "{c:?}");
        assert_eq!(c.turns_needed, Some(1));
        assert_eq!(c.call_id, "CA1");
        let mut missed = booked.clone();
        missed["turns"][1]["parameters"]["time"] = json!("");
        missed["turns"][1]["botText"] = json!("At what time would you like the table?");
        let c = score(&case, Set::Tune, "flite:awb", "vonage", &missed, today());
        assert!(!c.booked && !c.one_turn_success);
        assert!(!c.slots["time"].correct && c.slots["person"].correct);
        let r = Report::new(
            Set::Tune,
            1,
            "test".into(),
            vec![c.clone(), {
                let mut ok = c.clone();
                ok.transport = "twilio".into();
                ok.one_turn_success = true;
                ok.booked = true;
                ok.slots.get_mut("time").unwrap().correct = true;
                ok
            }],
        );
        assert_eq!(r.overall.one_turn_success, Some(0.5));
        assert_eq!(r.by_transport["twilio"].one_turn_success, Some(1.0));
        assert_eq!(r.by_transport["vonage"].slot_accuracy, Some(2.0 / 3.0));
        assert!(r.to_string().contains("vonage"));
    }
}
