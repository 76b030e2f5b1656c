//! Playing Twilio against the server: fetch our TwiML as Twilio does for an incoming call, run
//! the `<Connect><Stream>` it names with a platform-side caller (DTMF for the caller's turns),
//! then request the `<Connect action>` URL and get the TwiML that runs next.

use super::{PhoneServer, RawCaller};
use sb_transport::{Inbound, Outbound, Platform};
use std::collections::BTreeMap;
use std::time::Duration;

/// Our TwiML, read back.
#[derive(Debug, Clone)]
pub struct Twiml {
    pub action: String,
    pub method: String,
    pub stream_url: String,
    pub params: Vec<(String, String)>,
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> String {
    let key = format!("{name}=\"");
    let start = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    let end = start + tag[start..].find('"').unwrap();
    unescape(&tag[start..end])
}

impl Twiml {
    pub fn parse(text: &str) -> Twiml {
        let connect = &text[text.find("<Connect ").expect("a <Connect action>")..];
        let connect_tag = &connect[..connect.find('>').unwrap()];
        let stream = &text[text.find("<Stream ").expect("a <Stream>")..];
        let stream_tag = &stream[..stream.find('>').unwrap()];
        let mut params = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("<Parameter ") {
            let tag = &rest[i..i + rest[i..].find("/>").unwrap()];
            params.push((attr(tag, "name"), attr(tag, "value")));
            rest = &rest[i + tag.len()..];
        }
        Twiml {
            action: attr(connect_tag, "action"),
            method: attr(connect_tag, "method"),
            stream_url: attr(stream_tag, "url"),
            params,
        }
    }

    pub fn param(&self, k: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

/// Twilio's standard fields of a call's requests.
pub fn standard_fields(call_sid: &str, status: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", "ACtest"),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("Called", "+15550002"),
        ("Caller", "+15550001"),
        ("Direction", "inbound"),
        ("From", "+15550001"),
        ("To", "+15550002"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `POST {path}` as Twilio requests TwiML for an incoming call (over plain HTTP: the stream URL
/// comes back as `ws://`).
pub async fn fetch_twiml(s: &PhoneServer, path: &str, call_sid: &str) -> Twiml {
    let r = s
        .http
        .post(format!("{}{path}", s.base))
        .header("x-forwarded-proto", "http")
        .form(&standard_fields(call_sid, "ringing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    Twiml::parse(&r.text().await.unwrap())
}

/// Runs the stream: waits for the greeting, keys in each of `turns` (DTMF, e.g. `"1#"`) after
/// the bot's previous reply, echoing every mark, until the server closes the stream.
pub async fn run_stream(twiml: &Twiml, call_sid: &str, turns: &[&str]) {
    run_caller(
        Platform::Twilio,
        &twiml.stream_url,
        call_sid,
        &twiml.params,
        turns,
        None,
    )
    .await
}

/// [`run_stream`] on either platform (`params`: Twilio `customParameters`, Vonage headers),
/// the upgrade signed with Twilio auth token `token` when given.
pub async fn run_caller(
    platform: Platform,
    url: &str,
    call_id: &str,
    params: &[(String, String)],
    turns: &[&str],
    token: Option<&str>,
) {
    let stream = format!("MZ{call_id}");
    run_caller_stream(platform, url, call_id, &stream, params, turns, token).await
}

/// [`run_caller`] with stream id `stream_id` (a call's later stream has a new one).
pub async fn run_caller_stream(
    platform: Platform,
    url: &str,
    call_id: &str,
    stream_id: &str,
    params: &[(String, String)],
    turns: &[&str],
    token: Option<&str>,
) {
    let mut c = RawCaller::connect_signed(url, platform, token).await;
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.start_stream(call_id, stream_id, &params).await;
    let mut turns = turns.iter();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(outs) = c.next_outputs().await {
            for o in outs {
                if let Outbound::Mark(name) = o {
                    c.send(&Inbound::Mark { name }).await;
                    if let Some(keys) = turns.next() {
                        for digit in keys.chars() {
                            c.send(&Inbound::Dtmf {
                                digit,
                                duration_ms: Some(100),
                            })
                            .await;
                        }
                    }
                }
            }
        }
    })
    .await
    .expect("the stream did not end in time");
}

/// Twilio's request to the `<Connect action>` URL once the stream ended: (status, TwiML).
pub async fn request_action(s: &PhoneServer, twiml: &Twiml, call_sid: &str) -> (u16, String) {
    assert_eq!(twiml.method, "POST");
    let url = twiml
        .action
        .replacen(&format!("http://{}", s.host), &s.base, 1);
    let r = s
        .http
        .post(url)
        .header("x-forwarded-proto", "http")
        .form(&standard_fields(call_sid, "in-progress"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Stream parameters as the start message carries them.
pub fn custom(twiml: &Twiml) -> BTreeMap<String, String> {
    twiml.params.iter().cloned().collect()
}

/// Twilio following a `<Redirect>` in `twiml`: its URL (made relative to the server) is
/// requested as TwiML for the same call.
pub async fn follow_redirect(s: &PhoneServer, twiml: &str, call_sid: &str) -> Twiml {
    let start = twiml.find("<Redirect").expect("a <Redirect>");
    let body = &twiml[start..];
    let url = unescape(&body[body.find('>').unwrap() + 1..body.find("</Redirect>").unwrap()]);
    let path = url.strip_prefix(&s.base).expect("a redirect to the server");
    fetch_twiml(s, path, call_sid).await
}

/// Twilio submitting the `<Gather>` of `twiml` to the customer's app at `base` with `digits`:
/// (status, TwiML answered).
pub async fn submit_gather(
    s: &PhoneServer,
    base: &str,
    twiml: &str,
    call_sid: &str,
    digits: &str,
) -> (u16, String) {
    let action = attr(
        &twiml[twiml.find("<Gather ").expect("a <Gather>")..],
        "action",
    );
    let mut form = standard_fields(call_sid, "in-progress");
    form.push(("Digits".into(), digits.into()));
    let r = s
        .http
        .post(format!("{base}{action}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}
