//! Confirming values the recogniser was unsure of, as a person taking a booking would: "Was that
//! Anna?" before fulfilling.
//!
//! Off unless the agent sets a threshold (`Agent::confirm_below`, from agent.json's
//! switchboard-specific `"switchboard": {"confirmBelowConfidence": 0.5}`), so Dialogflow
//! behaviour is unchanged by default. Only speech turns count: a required parameter filled from
//! an utterance whose recognition confidence is under the threshold is *unsure*. Unsure values
//! are remembered through slot filling; when the intent has every required parameter and some
//! are unsure, the bot asks instead of fulfilling. "Yes" fulfils with the values; a bare "no"
//! drops the unsure values and slot filling asks for them again; "no, Hannah" replaces what it
//! names and keeps the rest; anything else that fills an unsure parameter replaces it.

use super::decide::{Decision, SlotExit};
use super::types::{PendingConfirm, SessionState, SlotFilling, TurnRequest};
use crate::agent::Intent;
use crate::engine::{Engine, Extracted};
use crate::sysent::SysContext;
use serde_json::{Map, Value};

/// Confirmations in a row for one intent before the values are taken as they are.
const MAX_ATTEMPTS: u32 = 2;

/// What a confirmation turn passes on to the turn it leads to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Carry {
    /// The caller said yes: fulfil without asking again.
    pub confirmed: bool,
    /// Confirmations already asked in a row.
    pub attempts: u32,
}

#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Yes,
    No,
    Other,
}

const YES_WORDS: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "yup",
    "yea",
    "correct",
    "right",
    "exactly",
    "sure",
    "affirmative",
    "ok",
    "okay",
    "absolutely",
    "definitely",
    "perfect",
];
const YES_PHRASES: &[&str] = &[
    "that's right",
    "that is right",
    "that's correct",
    "that is correct",
    "it is",
    "it was",
    "that's it",
    "uh huh",
    "mm hmm",
    "sounds good",
    "that's fine",
];
const NO_WORDS: &[&str] = &["no", "nope", "nah", "wrong", "incorrect", "not"];
const NO_PHRASES: &[&str] = &[
    "that's wrong",
    "that is wrong",
    "that's not right",
    "that is not right",
    "it wasn't",
    "it isn't",
    "not quite",
];

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn classify(text: &str) -> Answer {
    let w = words(text);
    let joined = w.join(" ");
    let starts = |p: &str| joined == p || joined.starts_with(&format!("{p} "));
    if NO_PHRASES.iter().any(|p| starts(p))
        || w.first().is_some_and(|f| NO_WORDS.contains(&f.as_str()))
    {
        return Answer::No;
    }
    if YES_PHRASES.iter().any(|p| starts(p))
        || w.first().is_some_and(|f| YES_WORDS.contains(&f.as_str()))
    {
        return Answer::Yes;
    }
    Answer::Other
}

/// The text after a leading "no"/"nope" (the correction in "no, Hannah").
fn after_no(text: &str) -> &str {
    let t = text.trim_start();
    let lower = t.to_lowercase();
    for w in ["nope", "nah", "no"] {
        if lower.starts_with(w) && !lower[w.len()..].starts_with(char::is_alphanumeric) {
            return t[w.len()..].trim_start_matches(|c: char| !c.is_alphanumeric());
        }
    }
    t
}

impl Engine {
    /// If the session waits for a yes/no on unsure values, what `text` decides. The pending
    /// question ends with any answer but [`SlotExit::Repeat`] (see `decide::apply_exit`).
    pub(super) fn answer_confirmation(
        &self,
        state: &SessionState,
        text: &str,
        ctx: &SysContext,
    ) -> Option<(Decision, SlotExit)> {
        let pc = state.confirming.clone()?;
        let idx = self
            .agent
            .intents
            .iter()
            .position(|i| i.id == pc.intent_id)?;
        let answer = classify(text);
        if answer == Answer::Yes {
            let yes = Decision::Intent {
                idx,
                confidence: 1.0,
                ex: Extracted {
                    values: pc.parameters,
                    originals: pc.originals,
                },
                continuing: false,
                carry: Carry {
                    confirmed: true,
                    attempts: pc.attempts,
                },
            };
            return Some((yes, SlotExit::Leave));
        }
        let said = if answer == Answer::No {
            after_no(text)
        } else {
            text
        };
        let mut ex = self.extract(idx, said, ctx);
        let intent = self.intent(idx);
        if let Some(first) = pc.unsure.first() {
            if !ex.values.contains_key(first) && !said.trim().is_empty() {
                if let Some(p) = intent.parameters.iter().find(|p| &p.name == first) {
                    if let Some(m) = self.resolve_answer(said, &p.data_type, ctx) {
                        ex.values.insert(p.name.clone(), m.value);
                        ex.originals
                            .insert(p.name.clone(), Value::String(m.original));
                    }
                }
            }
        }
        let corrected = pc.unsure.iter().any(|u| ex.values.contains_key(u));
        if answer == Answer::Other && !corrected {
            // Neither yes, no nor a new value: the question stands.
            return Some((Decision::Repeat, SlotExit::Repeat));
        }
        // Go on as slot filling from the values before this answer, so that only what was said
        // now counts as new (and, if heard with low confidence again, as unsure).
        let mut before = pc.parameters;
        let mut before_originals = pc.originals;
        let mut still_unsure = pc.unsure.clone();
        if answer == Answer::No {
            // A bare "no" takes back every unsure value; "no, Hannah" corrects what it names
            // and, as a person would take it, lets the rest stand.
            if !corrected {
                for u in &pc.unsure {
                    before.remove(u);
                    before_originals.remove(u);
                }
            }
            still_unsure.clear();
        }
        still_unsure.retain(|u| !ex.values.contains_key(u));
        let mut values = before.clone();
        let mut originals = before_originals.clone();
        for (k, v) in ex.values {
            if let Some(o) = ex.originals.get(&k) {
                originals.insert(k.clone(), o.clone());
            }
            values.insert(k, v);
        }
        let refill = SlotExit::Refill(SlotFilling {
            intent_id: pc.intent_id,
            parameters: before,
            originals: before_originals,
            asking: pc.unsure.first().cloned().unwrap_or_default(),
            attempts: 0,
            unsure: still_unsure,
        });
        let decision = Decision::Intent {
            idx,
            confidence: 1.0,
            ex: Extracted { values, originals },
            continuing: true,
            carry: Carry {
                confirmed: false,
                attempts: pc.attempts,
            },
        };
        Some((decision, refill))
    }

    /// The required parameters of `intent` that are unsure after this turn: those `fresh`
    /// (filled by this query) when its recognition confidence is under the agent's threshold,
    /// plus those still unsure from earlier turns of the same slot filling and not said again.
    pub(super) fn unsure_after(
        &self,
        intent: &Intent,
        state: &SessionState,
        fresh: &[String],
        req: &TurnRequest,
    ) -> Vec<String> {
        let Some(below) = self.agent.confirm_below else {
            return Vec::new();
        };
        let low = req.speech_confidence.is_some_and(|c| c < below);
        let earlier = state
            .slot_filling
            .as_ref()
            .filter(|sf| sf.intent_id == intent.id)
            .map(|sf| sf.unsure.as_slice())
            .unwrap_or_default();
        intent
            .parameters
            .iter()
            .filter(|p| p.required)
            .map(|p| &p.name)
            .filter(|n| {
                let now = fresh.contains(n);
                (now && low) || (!now && earlier.contains(n))
            })
            .cloned()
            .collect()
    }
}

/// The confirmation question for `unsure` (in the intent's parameter order): a template that
/// renders each value as the agent's own responses would (`$person`, `$date`…).
pub(super) fn question(intent: &Intent, unsure: &[String]) -> String {
    let refs: Vec<String> = intent
        .parameters
        .iter()
        .filter(|p| unsure.contains(&p.name))
        .map(|p| format!("${}", p.name))
        .collect();
    format!("Was that {}?", refs.join(", "))
}

/// The pending confirmation stored in the session.
pub(super) fn pending(
    intent: &Intent,
    values: Map<String, Value>,
    originals: Map<String, Value>,
    unsure: Vec<String>,
    attempts: u32,
) -> PendingConfirm {
    PendingConfirm {
        intent_id: intent.id.clone(),
        parameters: values,
        originals,
        unsure,
        attempts,
    }
}

/// Whether to ask before fulfilling.
pub(super) fn should_ask(unsure: &[String], carry: Carry, is_event: bool) -> bool {
    !unsure.is_empty() && !carry.confirmed && !is_event && carry.attempts < MAX_ATTEMPTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_and_no_are_read_like_a_person_would() {
        for y in [
            "yes",
            "Yes.",
            "yeah that's right",
            "that's right",
            "correct",
            "uh huh",
        ] {
            assert_eq!(classify(y), Answer::Yes, "{y}");
        }
        for n in [
            "no",
            "No, Hannah.",
            "nope",
            "that's wrong",
            "not quite",
            "no it's Hannah",
        ] {
            assert_eq!(classify(n), Answer::No, "{n}");
        }
        for o in ["Hannah", "the name is Hannah", "what?", "nobody"] {
            assert_eq!(classify(o), Answer::Other, "{o}");
        }
        assert_eq!(after_no("No, Hannah."), "Hannah.");
        assert_eq!(after_no("nope it's Hannah"), "it's Hannah");
        assert_eq!(after_no("Nobody"), "Nobody");
    }
}
