//! Our side of a Vonage Voice API WebSocket (`connect` to a `websocket` endpoint).

use serde::Serialize;
use serde_json::Value;

use crate::json::{
    dtmf_digit, malformed, opt_str, parse_object, req_str, to_text, value_to_string, Obj,
};
use crate::media::{check_outbound_len, core_ms, FrameResampler, CORE_RATE};
use crate::{Codec, Inbound, Outbound, Result, StartInfo, TransportError, WsMessage};

pub(crate) const VONAGE_ENCODING: &str = "audio/l16";
/// The header that carries the call id into [`StartInfo::call_id`].
pub const VONAGE_CALL_ID_HEADER: &str = "uuid";

/// Parses `audio/l16;rate=16000` (case-insensitive, spaces allowed) into the rate.
pub(crate) fn parse_content_type(ct: &str) -> Result<u32> {
    let mut parts = ct.split(';').map(str::trim);
    let mime = parts.next().unwrap_or_default();
    if !mime.eq_ignore_ascii_case(VONAGE_ENCODING) {
        return Err(TransportError::Unsupported(format!("content-type {ct:?}")));
    }
    let mut rate = None;
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            if k.trim().eq_ignore_ascii_case("rate") {
                rate = v.trim().parse::<u32>().ok();
            }
        }
    }
    match rate {
        Some(r @ (8000 | 16000 | 24000)) => Ok(r),
        _ => Err(TransportError::Unsupported(format!("content-type {ct:?}"))),
    }
}

/// Bytes in one 20 ms frame of 16-bit audio at `rate`.
pub(crate) fn frame_bytes(rate: u32) -> usize {
    rate as usize / 50 * 2
}

/// Decodes one binary frame of exactly 20 ms little-endian L16.
pub(crate) fn frame_samples(bytes: &[u8], rate: u32) -> Result<Vec<i16>> {
    let expected = frame_bytes(rate);
    if bytes.len() != expected {
        return Err(TransportError::FrameSize {
            expected,
            got: bytes.len(),
        });
    }
    Ok(sb_audio::l16le_to_i16(bytes)?)
}

/// Per-stream state once the rate is known.
struct Stream {
    rate: u32,
    up: FrameResampler,
    down: FrameResampler,
}

/// Server-side codec for one Vonage WebSocket.
///
/// The first text message (`websocket:connected`, or the older form without `event`) sets the
/// rate and yields [`Inbound::Connected`] + [`Inbound::Start`]; binary frames must then be
/// exactly 20 ms. A [`Outbound::Mark`] travels as `{"action":"notify","payload":{"mark":name}}`
/// and its `websocket:notify` echo decodes back to [`Inbound::Mark`]. Vonage has no stop message:
/// the driver calls [`Codec::on_close`] when the socket closes.
#[derive(Default)]
pub struct VonageServer {
    stream: Option<Stream>,
    closed: bool,
    samples_in: u64,
}

#[derive(Serialize)]
struct Action<'a, P: Serialize> {
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a P>,
}

#[derive(Serialize)]
pub(crate) struct MarkPayload<'a> {
    pub(crate) mark: &'a str,
}

impl VonageServer {
    /// A codec waiting for Vonage's first message.
    pub fn new() -> Self {
        Self::default()
    }

    /// The wire rate once started.
    pub fn rate(&self) -> Option<u32> {
        self.stream.as_ref().map(|s| s.rate)
    }

    fn decode_first(&mut self, obj: &Obj) -> Result<Vec<Inbound>> {
        let rate = parse_content_type(req_str(obj, "content-type")?)?;
        let mut custom_parameters = std::collections::BTreeMap::new();
        let mut call_id = String::new();
        for (k, v) in obj {
            match k.as_str() {
                "event" | "content-type" => {}
                VONAGE_CALL_ID_HEADER => call_id = value_to_string(v),
                _ => {
                    custom_parameters.insert(k.clone(), value_to_string(v));
                }
            }
        }
        self.stream = Some(Stream {
            rate,
            up: FrameResampler::new(rate, CORE_RATE)?,
            down: FrameResampler::new(CORE_RATE, rate)?,
        });
        let info = StartInfo {
            call_id,
            stream_id: String::new(),
            account_id: String::new(),
            custom_parameters,
            sample_rate: rate,
            encoding: VONAGE_ENCODING.to_owned(),
        };
        Ok(vec![Inbound::Connected, Inbound::Start(info)])
    }

    fn decode_text(&mut self, text: &str) -> Result<Vec<Inbound>> {
        let obj = parse_object(text)?;
        let event = opt_str(&obj, "event")?;
        let first = matches!(event, None | Some("websocket:connected"));
        if self.stream.is_none() {
            return if first {
                self.decode_first(&obj)
            } else {
                Err(TransportError::MissingStart("text event"))
            };
        }
        match event {
            None | Some("websocket:connected") => Ok(vec![Inbound::Ignored(
                "repeated websocket:connected".into(),
            )]),
            Some("websocket:dtmf") => {
                let digit = dtmf_digit(req_str(&obj, "digit")?)?;
                let duration_ms = match obj.get("duration") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(
                        v.as_u64()
                            .and_then(|d| u32::try_from(d).ok())
                            .ok_or_else(|| malformed("dtmf duration is not a u32"))?,
                    ),
                };
                Ok(vec![Inbound::Dtmf { digit, duration_ms }])
            }
            Some("websocket:cleared") => Ok(vec![Inbound::Cleared]),
            Some("websocket:notify") => {
                let payload = obj.get("payload").cloned().unwrap_or(Value::Null);
                match payload.get("mark") {
                    Some(Value::String(name)) => Ok(vec![Inbound::Mark { name: name.clone() }]),
                    _ => Ok(vec![Inbound::Notify { payload }]),
                }
            }
            Some(other) => Ok(vec![Inbound::Ignored(format!("vonage event {other}"))]),
        }
    }
}

impl Codec for VonageServer {
    fn decode(&mut self, msg: WsMessage) -> Result<Vec<Inbound>> {
        if self.closed {
            return Err(TransportError::AfterStop("message"));
        }
        match msg {
            WsMessage::Text(text) => self.decode_text(&text),
            WsMessage::Binary(bytes) => {
                let Some(stream) = self.stream.as_mut() else {
                    return Err(TransportError::MissingStart("audio frame"));
                };
                let pcm = frame_samples(&bytes, stream.rate)?;
                let pcm16k = stream.up.push(&pcm)?;
                if pcm16k.is_empty() {
                    return Ok(Vec::new());
                }
                let at_ms = core_ms(self.samples_in);
                self.samples_in = self.samples_in.saturating_add(pcm16k.len() as u64);
                Ok(vec![Inbound::Audio { pcm16k, at_ms }])
            }
        }
    }

    fn encode(&mut self, out: &Outbound) -> Result<Vec<WsMessage>> {
        if self.closed {
            return Err(TransportError::AfterStop("outbound message"));
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(TransportError::MissingStart("outbound message"));
        };
        match out {
            Outbound::Audio(pcm) => {
                check_outbound_len(pcm)?;
                Ok(stream
                    .down
                    .frames_padded(pcm)?
                    .iter()
                    .map(|f| WsMessage::Binary(sb_audio::l16le_from_i16(f)))
                    .collect())
            }
            Outbound::Mark(name) => Ok(vec![WsMessage::Text(to_text(&Action {
                action: "notify",
                payload: Some(&MarkPayload { mark: name }),
            })?)]),
            Outbound::Clear => {
                stream.down.reset();
                Ok(vec![WsMessage::Text(to_text(&Action::<()> {
                    action: "clear",
                    payload: None,
                })?)])
            }
        }
    }

    fn on_close(&mut self) -> Vec<Inbound> {
        if std::mem::replace(&mut self.closed, true) {
            Vec::new()
        } else {
            vec![Inbound::Stop]
        }
    }
}
