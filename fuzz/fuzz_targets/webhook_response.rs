//! Fulfillment webhook replies: the HTTP status and body a webhook answers with, read as the
//! agent's API version reads them (V2 `WebhookResponse`, or V1 `speech`/`messages`/`contextOut`
//! converted to V2).
//!
//! Input: one byte (bit 0: V1, bits 1..: a status from a small table), then the body.
//!
//! Checks: no panic; a non-2xx status is a failure whatever the body; an accepted reply
//! serializes and reads back as V2 to the same value (floats to within an ulp or two).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sb_nlu::webhook::{WebhookFormat, WebhookOutcome, WebhookResponse};
use serde_json::Value;

#[path = "common/json_eq.rs"]
mod json_eq;

const STATUS: [u16; 8] = [200, 200, 201, 204, 299, 300, 404, 500];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let format = if sel & 1 == 1 {
        WebhookFormat::V1
    } else {
        WebhookFormat::V2
    };
    let status = STATUS[usize::from(sel >> 1) % STATUS.len()];
    let outcome = WebhookOutcome::from_body_as(format, status, body);
    match outcome {
        WebhookOutcome::Failed { code, message } => {
            assert!(code == 13 || code == 14, "code {code}");
            assert!(message.starts_with("Webhook call failed. Error:"));
        }
        WebhookOutcome::Ok(r) => {
            assert!((200..300).contains(&status), "accepted a {status} reply");
            // The reply is stored in the session and sent to clients: it must serialize, and
            // a V2 reading of that gives it back unchanged.
            let json = serde_json::to_vec(&r).expect("serialize");
            match WebhookOutcome::from_body(200, &json) {
                WebhookOutcome::Ok(again) => {
                    let (a, b) = (to_value(&again), to_value(&r));
                    assert!(json_eq::same(&a, &b), "re-read differs:\n{a}\n{b}");
                }
                WebhookOutcome::Failed { message, .. } => panic!("re-read failed: {message}"),
            }
            let _: WebhookResponse = serde_json::from_slice(&json).expect("plain serde");
        }
    }
});

fn to_value(r: &WebhookResponse) -> Value {
    serde_json::to_value(r).expect("to value")
}
