//! RS256 JWTs for the Vonage Voice REST API (call control: transfer, hangup).
//!
//! Crypto backend: `jsonwebtoken` 11 with its `aws_lc_rs` feature (aws-lc-sys builds with the
//! `cc` crate; no cmake needed on Linux x86-64/aarch64).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::{Result, TransportError};

/// Longest token lifetime accepted (Vonage rejects tokens valid for more than 24 hours).
pub const MAX_TTL_SECS: u64 = 24 * 3600;

/// The claims of a Vonage application token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VonageClaims {
    pub application_id: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

/// A Vonage application id and its parsed private key, reusable for many tokens.
/// `Debug` never shows the key.
#[derive(Clone)]
pub struct VonageJwtSigner {
    application_id: String,
    key: EncodingKey,
}

impl std::fmt::Debug for VonageJwtSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VonageJwtSigner")
            .field("application_id", &self.application_id)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl VonageJwtSigner {
    /// Parses the application's RSA private key (PKCS#1 or PKCS#8 PEM, as Vonage issues it).
    pub fn new(application_id: &str, private_key_pem: &str) -> Result<Self> {
        if application_id.is_empty() {
            return Err(TransportError::Signing("empty application id".into()));
        }
        // The library's error text describes the failure kind only, never key bytes.
        let key = EncodingKey::from_rsa_pem(private_key_pem.as_bytes())
            .map_err(|e| TransportError::Signing(format!("private key: {e}")))?;
        Ok(Self {
            application_id: application_id.to_owned(),
            key,
        })
    }

    /// The application id tokens are issued for.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// A token issued at `now_unix`, valid for `ttl_secs` (1 ..= 24 h), with a random `jti`.
    pub fn token(&self, now_unix: u64, ttl_secs: u64) -> Result<String> {
        self.token_with_jti(now_unix, ttl_secs, &uuid::Uuid::new_v4().to_string())
    }

    /// Like [`Self::token`] with a caller-chosen `jti` (deterministic: RS256 signatures are).
    pub fn token_with_jti(&self, now_unix: u64, ttl_secs: u64, jti: &str) -> Result<String> {
        if ttl_secs == 0 || ttl_secs > MAX_TTL_SECS {
            return Err(TransportError::Unsupported(format!(
                "token lifetime {ttl_secs} s (1..={MAX_TTL_SECS})"
            )));
        }
        let claims = VonageClaims {
            application_id: self.application_id.clone(),
            iat: now_unix,
            exp: now_unix.saturating_add(ttl_secs),
            jti: jti.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| TransportError::Signing(e.to_string()))
    }
}

/// One-shot: a Vonage application JWT (RS256; claims `application_id`, `iat`, `exp`, `jti`).
pub fn vonage_jwt(
    application_id: &str,
    private_key_pem: &str,
    now_unix: u64,
    ttl_secs: u64,
) -> Result<String> {
    VonageJwtSigner::new(application_id, private_key_pem)?.token(now_unix, ttl_secs)
}
