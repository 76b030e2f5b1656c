//! Shared pieces of the virtual-clock whole-path tests: the restaurant agent, configurations,
//! and the platform loop.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use sb_call::{CallConfig, CallEvent, TurnRecord};
use sb_contracts::vad::EndpointConfig;
use sb_nlu::engine::Engine;
use sb_testkit::virtual_call::{Setup, VirtualCall};
use sb_testkit::Platform;

/// One 20 ms frame: the granularity of caller audio on both platforms.
pub const FRAME_MS: u64 = 20;

pub const WELCOME: &str =
    "Welcome to our Demonstration Restaurant. When and for whom would you like to book a table?";
pub const BOOKING: &str = "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya";

pub fn restaurant() -> Arc<Engine> {
    static E: OnceLock<Arc<Engine>> = OnceLock::new();
    E.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/restaurant");
        Arc::new(Engine::load(&dir).expect("the restaurant agent loads"))
    })
    .clone()
}

/// End of turn after 700 ms of silence, no early recognition.
pub fn classic() -> CallConfig {
    CallConfig {
        endpoint: EndpointConfig {
            end_silence_ms: 700,
            early_silence_ms: 0,
            late_silence_ms: 0,
            ..EndpointConfig::default()
        },
        ..CallConfig::default()
    }
}

/// Early recognition at a 200 ms pause, end of turn after 700 ms.
pub fn early() -> CallConfig {
    CallConfig {
        endpoint: EndpointConfig {
            end_silence_ms: 700,
            early_silence_ms: 200,
            late_silence_ms: 0,
            ..EndpointConfig::default()
        },
        ..CallConfig::default()
    }
}

pub fn call(platform: Platform, cfg: CallConfig) -> VirtualCall {
    VirtualCall::new(Setup::new(platform, restaurant(), cfg)).expect("virtual call")
}

/// Starts the call and plays the welcome to its mark echo; returns the echo time.
pub fn welcomed(c: &mut VirtualCall) -> u64 {
    c.start();
    c.until_played(0, 5_000)
}

/// `t` is within `[lo, lo + slack]`, with the call's timeline on failure.
#[track_caller]
pub fn assert_at(c: &VirtualCall, what: &str, t: u64, lo: u64, slack: u64) {
    assert!(
        (lo..=lo + slack).contains(&t),
        "{what} at {t} ms, expected {lo}..={} ms:\n{}",
        lo + slack,
        c.dump()
    );
}

/// The turn records, in order.
pub fn records(c: &VirtualCall) -> Vec<(u64, TurnRecord)> {
    c.events()
        .into_iter()
        .filter_map(|(t, e)| match e {
            CallEvent::TurnCompleted(r) => Some((t, *r)),
            _ => None,
        })
        .collect()
}

/// `(time, turn, intent, queryText)` of every engine answer.
pub fn intents(c: &VirtualCall) -> Vec<(u64, u64, Option<String>, String)> {
    c.events()
        .into_iter()
        .filter_map(|(t, e)| match e {
            CallEvent::IntentMatched { turn, result, .. } => Some((
                t,
                turn,
                result.intent_name.clone(),
                result.query_result["queryText"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )),
            _ => None,
        })
        .collect()
}

/// When the caller's last phrase ended on the session's media timeline.
pub fn speech_end(c: &VirtualCall) -> u64 {
    c.spoken().last().expect("the caller spoke").to_ms + c.uplink_delay_ms()
}

/// Runs `$scenario(platform)` as one test per platform.
#[macro_export]
macro_rules! on_both_platforms {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[test]
                fn twilio() {
                    super::$scenario(sb_testkit::Platform::Twilio)
                }
                #[test]
                fn vonage() {
                    super::$scenario(sb_testkit::Platform::Vonage)
                }
            }
        )*
    };
}
