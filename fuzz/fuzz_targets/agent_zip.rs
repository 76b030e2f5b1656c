//! Agent import from a Dialogflow ES export ZIP (what `switchboard` loads, or is given).
//!
//! Input: the bytes of the ZIP file.
//!
//! Checks: no panic, bounded memory; an agent that loads satisfies `common/agent_checks.rs`
//! and its templates render.
#![no_main]

#[path = "common/agent_checks.rs"]
mod agent_checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(agent) = sb_nlu::import::load_zip_bytes(data, "fuzz") {
        agent_checks::check(&agent);
    }
});
