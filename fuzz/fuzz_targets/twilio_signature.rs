//! `X-Twilio-Signature` verification: the URL, form fields and header all come from the request.
//!
//! Input: `\0`-separated strings (lossy UTF-8): auth token, URL, signature header, then form
//! name/value pairs.
//!
//! Checks: no panic on any header; the signature we compute verifies, whatever the order of the
//! form fields and with the default port added to the URL; another token's does not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sb_transport::{twilio_signature, verify_twilio_signature};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let token = parts.next().unwrap_or_default();
    let url = parts.next().unwrap_or_default();
    let header = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let params: Vec<(&str, &str)> = rest
        .chunks(2)
        .map(|c| (c[0], c.get(1).copied().unwrap_or("")))
        .collect();

    let _ = verify_twilio_signature(token, url, &params, header);

    let sig = twilio_signature(token, url, &params);
    assert!(verify_twilio_signature(token, url, &params, &sig));
    let mut reversed = params.clone();
    reversed.reverse();
    assert!(verify_twilio_signature(token, url, &reversed, &sig));
    assert!(verify_twilio_signature(
        token,
        url,
        &params,
        &format!(" {sig}\n")
    ));
    let other = format!("{token}x");
    assert!(!verify_twilio_signature(&other, url, &params, &sig));

    // A proxy that adds the default port: `https://host/x` → `https://host:443/x`.
    if let Some(rest) = url.strip_prefix("https://") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (host, path) = rest.split_at(end);
        if !host.is_empty() && !host.contains([':', '@', '[', ']']) {
            let with_port = format!("https://{host}:443{path}");
            assert!(
                verify_twilio_signature(token, &with_port, &params, &sig),
                "{with_port}"
            );
        }
    }
});
