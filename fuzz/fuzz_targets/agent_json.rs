//! Agent import from the JSON files of an export folder: `agent.json`, intents with their
//! `_usersays_en` phrases, entities with their `_entries_en` entries (no ZIP layer, so the
//! fuzzer spends its time in the JSON readers and the checks after them).
//!
//! Input: the files' contents separated by `\0`, in the order of `FILES` (missing ones absent).
//!
//! Checks: no panic; an agent that loads satisfies `common/agent_checks.rs` and its templates
//! render.
#![no_main]

#[path = "common/agent_checks.rs"]
mod agent_checks;

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const FILES: [&str; 7] = [
    "agent.json",
    "intents/a.json",
    "intents/a_usersays_en.json",
    "entities/e.json",
    "entities/e_entries_en.json",
    "intents/b.json",
    "intents/b_usersays_en.json",
];

fuzz_target!(|data: &[u8]| {
    let files: BTreeMap<String, Vec<u8>> = FILES
        .iter()
        .zip(data.split(|&b| b == 0))
        .map(|(name, body)| (name.to_string(), body.to_vec()))
        .collect();
    if let Ok(agent) = sb_nlu::import::load_files(files, "fuzz") {
        agent_checks::check(&agent);
    }
});
