//! Twilio webhook signatures (`X-Twilio-Signature`) and Twilio credentials.
//!
//! The signature is base64(HMAC-SHA1(auth_token, url + k1 + v1 + k2 + v2 …)) over the full
//! request URL and the form parameters sorted by name (and by value for repeated names;
//! identical repeated pairs count once, as in Twilio's Python helper library).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// Twilio account credentials. `Debug` never shows the auth token.
#[derive(Clone, PartialEq, Eq)]
pub struct TwilioCredentials {
    pub account_sid: String,
    pub auth_token: String,
}

impl std::fmt::Debug for TwilioCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioCredentials")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .finish()
    }
}

fn mac_for(auth_token: &str, url: &str, params: &[(&str, &str)]) -> HmacSha1 {
    let mut sorted: Vec<&(&str, &str)> = params.iter().collect();
    sorted.sort();
    // Identical repeated pairs count once (as in Twilio's Python helper library).
    sorted.dedup();
    // HMAC accepts keys of any length; the error branch is unreachable but handled anyway.
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| <HmacSha1 as hmac::digest::KeyInit>::new(&Default::default()));
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac
}

/// The `X-Twilio-Signature` Twilio would send for a request to `url` with form `params`.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let tag = mac_for(auth_token, url, params).finalize().into_bytes();
    base64::engine::general_purpose::STANDARD.encode(tag)
}

/// Checks `signature` in constant time. Like Twilio's helper libraries, it also accepts the
/// URL with the scheme's default port added or removed (`https://h/x` ≡ `https://h:443/x`),
/// since proxies differ in which form they forward.
pub fn verify_twilio_signature(
    auth_token: &str,
    url: &str,
    params: &[(&str, &str)],
    signature: &str,
) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let mut ok = false;
    for candidate in url_variants(url) {
        // Evaluate every variant so the time taken does not depend on which one matched.
        ok |= mac_for(auth_token, &candidate, params)
            .verify_slice(&expected)
            .is_ok();
    }
    ok
}

/// `url` itself, plus the form with the default port toggled (when the scheme has one).
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return out;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => "443",
        "http" | "ws" => "80",
        _ => return out,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let (userinfo, hostport) = authority.split_at(host_start);
    // A port is a ':' after any IPv6 literal's closing bracket.
    let bracket = hostport.rfind(']').map_or(0, |i| i + 1);
    let port_colon = hostport
        .get(bracket..)
        .and_then(|tail| tail.rfind(':'))
        .map(|i| i + bracket);
    let toggled = match port_colon {
        Some(i) => {
            let (host, port) = hostport.split_at(i);
            if port.get(1..) == Some(default_port) {
                Some(host.to_owned())
            } else {
                None
            }
        }
        None => Some(format!("{hostport}:{default_port}")),
    };
    if let Some(hp) = toggled {
        out.push(format!("{scheme}://{userinfo}{hp}{path}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::url_variants;

    #[test]
    fn default_port_is_toggled() {
        assert_eq!(
            url_variants("https://a.example/x?y=1"),
            ["https://a.example/x?y=1", "https://a.example:443/x?y=1"]
        );
        assert_eq!(
            url_variants("https://u:p@a.example:443"),
            ["https://u:p@a.example:443", "https://u:p@a.example"]
        );
        assert_eq!(url_variants("http://[::1]:8080/x"), ["http://[::1]:8080/x"]);
        assert_eq!(
            url_variants("http://[::1]/x"),
            ["http://[::1]/x", "http://[::1]:80/x"]
        );
        assert_eq!(url_variants("nonsense"), ["nonsense"]);
    }
}
