//! TwiML/NCCO builders, Twilio webhook signatures, Vonage JWTs.

use base64::Engine as _;
use sb_transport::ncco::{ncco_connect_phone, vonage_hangup, MAX_NCCO_HEADERS_BYTES};
use sb_transport::vonage_jwt::VonageClaims;
use sb_transport::{
    ncco_connect, ncco_transfer, twilio_signature, twiml_connect_stream, twiml_redirect,
    verify_twilio_signature, vonage_jwt, TransportError, TwilioCredentials, VonageJwtSigner,
};
use serde_json::json;

#[test]
fn twiml_connect_stream_is_exact_and_escaped() {
    assert_eq!(
        twiml_connect_stream("wss://sb.example/twilio/media", &[]),
        r#"<Response><Connect><Stream url="wss://sb.example/twilio/media"></Stream></Connect></Response>"#
    );
    assert_eq!(
        twiml_connect_stream(
            "wss://sb.example/m?a=1&b=2",
            &[("agent", "pizza"), ("q", "<\"O'Brien\" & co>\n\u{1}")]
        ),
        "<Response><Connect><Stream url=\"wss://sb.example/m?a=1&amp;b=2\">\
         <Parameter name=\"agent\" value=\"pizza\"/>\
         <Parameter name=\"q\" value=\"&lt;&quot;O&apos;Brien&quot; &amp; co&gt;&#10;\"/>\
         </Stream></Connect></Response>"
    );
    assert_eq!(
        twiml_redirect("https://h.example/next?x=1&y=2"),
        "<Response><Redirect>https://h.example/next?x=1&amp;y=2</Redirect></Response>"
    );
}

#[test]
fn ncco_connect_matches_the_documented_shape() {
    let ncco = ncco_connect(
        "wss://sb.example/vonage/media",
        "https://sb.example/vonage/event",
        16000,
        &[("uuid", "call-1"), ("agent", "pizza")],
    )
    .unwrap();
    assert_eq!(
        ncco,
        json!([
            {"action": "talk", "text": "Connecting your call, please wait."},
            {"action": "connect", "eventUrl": ["https://sb.example/vonage/event"],
             "endpoint": [{"type": "websocket", "uri": "wss://sb.example/vonage/media",
                           "content-type": "audio/l16;rate=16000",
                           "headers": {"uuid": "call-1", "agent": "pizza"}}]}
        ])
    );
    let rate8k = ncco_connect("wss://a", "https://b", 8000, &[]).unwrap();
    assert_eq!(
        rate8k[1]["endpoint"][0]["content-type"],
        "audio/l16;rate=8000"
    );
    assert_eq!(
        ncco_connect("wss://a", "https://b", 44100, &[]),
        Err(TransportError::Unsupported("Vonage rate 44100".into()))
    );
    // {"k":"<v>"} is 8 bytes + v: exactly 512 passes, 513 fails.
    let v = "x".repeat(MAX_NCCO_HEADERS_BYTES - 8);
    assert!(ncco_connect("wss://a", "https://b", 16000, &[("k", &v)]).is_ok());
    let v = "x".repeat(MAX_NCCO_HEADERS_BYTES - 7);
    assert_eq!(
        ncco_connect("wss://a", "https://b", 16000, &[("k", &v)]),
        Err(TransportError::TooLarge { len: 513, max: 512 })
    );
    assert!(ncco_connect("wss://a", "https://b", 16000, &[("content-type", "x")]).is_err());
}

#[test]
fn vonage_call_update_bodies() {
    let target = ncco_connect_phone("447700900000", Some("447700900001"));
    assert_eq!(
        target,
        json!([{"action": "connect", "endpoint": [{"type": "phone", "number": "447700900000"}],
                "from": "447700900001"}])
    );
    assert_eq!(
        ncco_transfer(target.clone()).unwrap(),
        json!({"action": "transfer", "destination": {"type": "ncco", "ncco": target}})
    );
    assert!(ncco_transfer(json!({"action": "talk"})).is_err());
    assert_eq!(vonage_hangup(), json!({"action": "hangup"}));
}

/// Twilio's published example (security docs / helper-library tests).
const DOC_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const DOC_PARAMS: [(&str, &str); 5] = [
    ("Digits", "1234"),
    ("To", "+18005551212"),
    ("From", "+14158675309"),
    ("Caller", "+14158675309"),
    ("CallSid", "CA1234567890ABCDE"),
];
const DOC_SIGNATURE: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

#[test]
fn twilio_signature_matches_the_published_example() {
    assert_eq!(
        twilio_signature("12345", DOC_URL, &DOC_PARAMS),
        DOC_SIGNATURE
    );
    assert!(verify_twilio_signature(
        "12345",
        DOC_URL,
        &DOC_PARAMS,
        DOC_SIGNATURE
    ));
    // Default port added by a proxy still verifies.
    let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    assert!(verify_twilio_signature(
        "12345",
        with_port,
        &DOC_PARAMS,
        DOC_SIGNATURE
    ));
    // Anything changed fails.
    assert!(!verify_twilio_signature(
        "12346",
        DOC_URL,
        &DOC_PARAMS,
        DOC_SIGNATURE
    ));
    assert!(!verify_twilio_signature(
        "12345",
        &format!("{DOC_URL}&x=1"),
        &DOC_PARAMS,
        DOC_SIGNATURE
    ));
    let mut tampered = DOC_PARAMS;
    tampered[0].1 = "1235";
    assert!(!verify_twilio_signature(
        "12345",
        DOC_URL,
        &tampered,
        DOC_SIGNATURE
    ));
    assert!(!verify_twilio_signature(
        "12345",
        DOC_URL,
        &DOC_PARAMS[1..],
        DOC_SIGNATURE
    ));
    assert!(!verify_twilio_signature(
        "12345",
        DOC_URL,
        &DOC_PARAMS,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8"
    ));
    assert!(!verify_twilio_signature(
        "12345",
        DOC_URL,
        &DOC_PARAMS,
        "not base64 !"
    ));
    assert!(!verify_twilio_signature("12345", DOC_URL, &DOC_PARAMS, ""));
}

#[test]
fn twilio_signature_sorts_repeated_parameters() {
    // Repeated names are sorted by value; an identical repeated pair counts once
    // (the vector twilio-python's validator accepts).
    let params = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ];
    assert_eq!(
        twilio_signature("12345", DOC_URL, &params),
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    );
    let mut reversed = params;
    reversed.reverse();
    assert_eq!(
        twilio_signature("12345", DOC_URL, &reversed),
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    );
}

#[test]
fn credentials_debug_hides_secrets() {
    let creds = TwilioCredentials {
        account_sid: "AC123".into(),
        auth_token: "super-secret-token".into(),
    };
    let dbg = format!("{creds:?}");
    assert_eq!(
        dbg,
        r#"TwilioCredentials { account_sid: "AC123", auth_token: "<redacted>" }"#
    );
    let signer = VonageJwtSigner::new("app-1", PRIVATE_PEM).unwrap();
    let dbg = format!("{signer:?}");
    assert_eq!(
        dbg,
        r#"VonageJwtSigner { application_id: "app-1", key: "<redacted>" }"#
    );
}

const PRIVATE_PEM: &str = include_str!("data/test_only_vonage_private.pem");
const PUBLIC_PEM: &str = include_str!("data/test_only_vonage_public.pem");

fn b64url(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn vonage_jwt_is_rs256_with_the_expected_claims() {
    let signer = VonageJwtSigner::new("aaaaaaaa-bbbb-cccc-dddd-0123456789ab", PRIVATE_PEM).unwrap();
    let token = signer.token_with_jti(1_700_000_000, 900, "jti-1").unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], b64url(r#"{"typ":"JWT","alg":"RS256"}"#));
    assert_eq!(
        parts[1],
        b64url(
            r#"{"application_id":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","iat":1700000000,"exp":1700000900,"jti":"jti-1"}"#
        )
    );
    // The signature was computed independently with
    // `printf %s "$h.$p" | openssl dgst -sha256 -sign test_only_vonage_private.pem | base64url`.
    assert_eq!(
        parts[2],
        include_str!("data/test_only_expected_jwt_signature.txt").trim()
    );

    let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC_PEM.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<VonageClaims>(&token, &key, &validation).unwrap();
    assert_eq!(
        data.claims,
        VonageClaims {
            application_id: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab".into(),
            iat: 1_700_000_000,
            exp: 1_700_000_900,
            jti: "jti-1".into(),
        }
    );
    // A flipped payload byte no longer verifies.
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64url(r#"{"application_id":"x","iat":1,"exp":2,"jti":"j"}"#),
        parts[2]
    );
    assert!(jsonwebtoken::decode::<VonageClaims>(&forged, &key, &validation).is_err());
}

#[test]
fn vonage_jwt_random_jti_and_errors() {
    let a = vonage_jwt("app", PRIVATE_PEM, 1_700_000_000, 60).unwrap();
    let b = vonage_jwt("app", PRIVATE_PEM, 1_700_000_000, 60).unwrap();
    assert_ne!(a, b, "jti must differ between tokens");
    assert!(matches!(
        vonage_jwt("app", "not a key", 0, 60),
        Err(TransportError::Signing(_))
    ));
    assert!(matches!(
        vonage_jwt("", PRIVATE_PEM, 0, 60),
        Err(TransportError::Signing(_))
    ));
    assert!(matches!(
        vonage_jwt("app", PRIVATE_PEM, 0, 0),
        Err(TransportError::Unsupported(_))
    ));
    assert!(matches!(
        vonage_jwt("app", PRIVATE_PEM, 0, 24 * 3600 + 1),
        Err(TransportError::Unsupported(_))
    ));
    // Error text never echoes key material.
    let err = vonage_jwt("app", &PRIVATE_PEM.replace('A', "B"), 0, 60);
    if let Err(e) = err {
        assert!(!e.to_string().contains("MII"), "{e}");
    }
}
