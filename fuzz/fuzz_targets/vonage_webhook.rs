//! Vonage signed webhooks: the `Authorization` header and the payload come from the request.
//!
//! Input: `\0`-separated strings (lossy UTF-8): signature secret, `Authorization` header value,
//! payload, and a clock offset in seconds.
//!
//! Checks: no panic on any header or payload; a token we sign for the payload verifies at its
//! issue time and not for another secret or another payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sb_transport::vonage_sig::{sign_vonage_webhook, verify_vonage_webhook};

const NOW: u64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let secret = parts.next().unwrap_or_default();
    let header = parts.next().unwrap_or_default();
    let payload = parts.next().unwrap_or_default();
    let offset: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);

    let _ = verify_vonage_webhook(secret, Some(header), payload.as_bytes(), NOW + offset);

    let signed = sign_vonage_webhook(secret, payload.as_bytes(), NOW);
    // Signing can fail inside the crypto library (then the header is just "Bearer ").
    if signed.len() > "Bearer ".len() {
        assert!(verify_vonage_webhook(secret, Some(&signed), payload.as_bytes(), NOW).is_ok());
        let other = format!("{secret}x");
        assert!(verify_vonage_webhook(&other, Some(&signed), payload.as_bytes(), NOW).is_err());
        let tampered = format!("{payload}x");
        assert!(verify_vonage_webhook(secret, Some(&signed), tampered.as_bytes(), NOW).is_err());
    }
});
