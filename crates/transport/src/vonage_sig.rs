//! Vonage signed webhooks: the answer and event requests carry `Authorization: Bearer JWT`,
//! an HS256 token signed with the account's signature secret, whose `payload_hash` claim is
//! the hex SHA-256 of the payload — the request body of a POST, or for a GET the query
//! parameters as a compact JSON object in their order.
//!
//! Besides the signature this checks the token's age (`iat` within [`MAX_AGE_SECS`], so a
//! captured request cannot be replayed later) and `exp` when present.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Oldest token accepted (seconds since `iat`).
pub const MAX_AGE_SECS: u64 = 300;
/// Clock skew tolerated for a token issued "in the future".
pub const SKEW_SECS: u64 = 60;

/// The claims of a Vonage webhook token that we read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VonageWebhookClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hash: Option<String>,
}

/// Why a webhook's signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VonageSigError {
    #[error("no `Authorization: Bearer` token")]
    Missing,
    #[error("the token is not a valid HS256 JWT for this signature secret ({0})")]
    Invalid(String),
    #[error("the token has no `iat`, or it is older than {MAX_AGE_SECS} s or in the future")]
    Stale,
    #[error("the token has expired")]
    Expired,
    #[error("the payload does not match the token's payload_hash")]
    PayloadMismatch,
}

/// Lower-case hex SHA-256.
pub fn payload_hash(payload: &[u8]) -> String {
    Sha256::digest(payload)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The payload Vonage hashes for a GET: the query parameters as a compact JSON object, in order.
pub fn query_payload(pairs: &[(&str, &str)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Serialising a &str cannot fail.
        out.push_str(&serde_json::to_string(k).unwrap_or_default());
        out.push(':');
        out.push_str(&serde_json::to_string(v).unwrap_or_default());
    }
    out.push('}');
    out
}

/// The token of an `Authorization` header value (`Bearer TOKEN`).
pub fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Checks a webhook's token (`authorization`: the header value) against `secret` and
/// `payload`, at `now_unix`. Returns the claims when every check passes.
pub fn verify_vonage_webhook(
    secret: &str,
    authorization: Option<&str>,
    payload: &[u8],
    now_unix: u64,
) -> Result<VonageWebhookClaims, VonageSigError> {
    let token = authorization
        .and_then(bearer)
        .ok_or(VonageSigError::Missing)?;
    let mut v = Validation::new(Algorithm::HS256);
    // Vonage's tokens need not carry `exp`; age is checked on `iat` below.
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_aud = false;
    let data = jsonwebtoken::decode::<VonageWebhookClaims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &v,
    )
    .map_err(|e| VonageSigError::Invalid(e.to_string()))?;
    let c = data.claims;
    let iat = c.iat.ok_or(VonageSigError::Stale)?;
    if iat > now_unix + SKEW_SECS || now_unix.saturating_sub(iat) > MAX_AGE_SECS {
        return Err(VonageSigError::Stale);
    }
    if c.exp.is_some_and(|exp| exp + SKEW_SECS < now_unix) {
        return Err(VonageSigError::Expired);
    }
    if let Some(h) = &c.payload_hash {
        if !h.eq_ignore_ascii_case(&payload_hash(payload)) {
            return Err(VonageSigError::PayloadMismatch);
        }
    }
    Ok(c)
}

/// The header value Vonage would send for `payload` at `iat` (simulated platforms and tests).
pub fn sign_vonage_webhook(secret: &str, payload: &[u8], iat: u64) -> String {
    let claims = VonageWebhookClaims {
        iat: Some(iat),
        jti: Some(uuid::Uuid::new_v4().to_string()),
        iss: Some("Vonage".into()),
        api_key: Some("simulated".into()),
        payload_hash: Some(payload_hash(payload)),
        ..Default::default()
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default();
    format!("Bearer {token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn a_signed_request_verifies_and_tampering_does_not() {
        let body = br#"{"status":"answered","uuid":"u1"}"#;
        let auth = sign_vonage_webhook("s3cret", body, NOW);
        let c = verify_vonage_webhook("s3cret", Some(&auth), body, NOW + 5).unwrap();
        assert_eq!(c.iss.as_deref(), Some("Vonage"));
        assert!(matches!(
            verify_vonage_webhook("other", Some(&auth), body, NOW),
            Err(VonageSigError::Invalid(_))
        ));
        assert_eq!(
            verify_vonage_webhook("s3cret", Some(&auth), b"{\"status\":\"completed\"}", NOW),
            Err(VonageSigError::PayloadMismatch)
        );
        assert_eq!(
            verify_vonage_webhook("s3cret", None, body, NOW),
            Err(VonageSigError::Missing)
        );
        assert_eq!(
            verify_vonage_webhook("s3cret", Some("Basic abc"), body, NOW),
            Err(VonageSigError::Missing)
        );
        assert_eq!(
            verify_vonage_webhook("s3cret", Some(&auth), body, NOW + MAX_AGE_SECS + 1),
            Err(VonageSigError::Stale)
        );
        assert_eq!(
            verify_vonage_webhook("s3cret", Some(&auth), body, NOW - SKEW_SECS - 1),
            Err(VonageSigError::Stale)
        );
        // An unsigned token ("alg": "none") is refused.
        let none = format!(
            "Bearer {}.{}.",
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", "eyJpYXQiOjE3MDAwMDAwMDB9"
        );
        assert!(matches!(
            verify_vonage_webhook("s3cret", Some(&none), body, NOW),
            Err(VonageSigError::Invalid(_))
        ));
    }

    #[test]
    fn get_payloads_are_the_query_as_json() {
        assert_eq!(
            query_payload(&[("uuid", "u1"), ("from", "447700900000")]),
            r#"{"uuid":"u1","from":"447700900000"}"#
        );
        assert_eq!(query_payload(&[]), "{}");
    }
}
