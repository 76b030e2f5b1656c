//! Vonage's side of a Voice API WebSocket, for simulated callers and tests.

use serde::Serialize;
use serde_json::Value;

use crate::json::{malformed, parse_object, req_str, to_text};
use crate::media::{check_outbound_len, FrameResampler, CORE_RATE};
use crate::vonage::{frame_samples, MarkPayload, VONAGE_CALL_ID_HEADER};
use crate::{CallerCodec, Inbound, Outbound, Result, TransportError, WsMessage};

/// Produces the messages Vonage sends and decodes the server's binary frames and
/// `notify`/`clear` actions.
///
/// `Start(info)` sends the first message: `websocket:connected` with
/// `content-type: audio/l16;rate=<info.sample_rate>`, `uuid: info.call_id` (when not empty) and
/// every custom parameter as a header. `Connected` sends nothing (Vonage folds it into the first
/// message) and `Stop` sends nothing either (Vonage just closes the socket; so should the
/// simulator). `Mark` sends the `websocket:notify` echo of a server mark, `Notify` any other
/// notify echo, `Cleared` the `websocket:cleared` confirmation.
#[derive(Default)]
pub struct VonageCaller {
    stream: Option<Stream>,
    closed: bool,
}

struct Stream {
    rate: u32,
    down: FrameResampler,
    up: FrameResampler,
}

#[derive(Serialize)]
struct Event<'a, P: Serialize> {
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a P>,
}

#[derive(Serialize)]
struct Dtmf {
    event: &'static str,
    digit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<u32>,
}

impl VonageCaller {
    /// A caller that has sent nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn first_message(info: &crate::StartInfo) -> Result<String> {
        let json = |s: &str| serde_json::Value::from(s).to_string();
        let mut text = format!(
            "{{\"event\":\"websocket:connected\",\"content-type\":{}",
            json(&format!("audio/l16;rate={}", info.sample_rate))
        );
        if !info.call_id.is_empty() {
            text.push_str(&format!(
                ",{}:{}",
                json(VONAGE_CALL_ID_HEADER),
                json(&info.call_id)
            ));
        }
        for (k, v) in &info.custom_parameters {
            if matches!(k.as_str(), "event" | "content-type" | VONAGE_CALL_ID_HEADER) {
                return Err(TransportError::Unsupported(format!(
                    "reserved header {k:?}"
                )));
            }
            text.push_str(&format!(",{}:{}", json(k), json(v)));
        }
        text.push('}');
        Ok(text)
    }
}

impl CallerCodec for VonageCaller {
    fn conversion_delay_ms(&self) -> (u64, u64) {
        self.stream
            .as_ref()
            .map_or((0, 0), |s| (s.down.delay_ms(), s.up.delay_ms()))
    }

    fn encode(&mut self, ev: &Inbound) -> Result<Vec<WsMessage>> {
        if self.closed {
            return Err(TransportError::AfterStop("caller event"));
        }
        let text = |event, payload: Option<&Value>| -> Result<Vec<WsMessage>> {
            Ok(vec![WsMessage::Text(to_text(&Event { event, payload })?)])
        };
        if let Inbound::Start(info) = ev {
            if self.stream.is_some() {
                return Err(malformed("second start on one stream"));
            }
            let rate = info.sample_rate;
            if !matches!(rate, 8000 | 16000 | 24000) {
                return Err(TransportError::Unsupported(format!("Vonage rate {rate}")));
            }
            let first = Self::first_message(info)?;
            self.stream = Some(Stream {
                rate,
                down: FrameResampler::new(CORE_RATE, rate)?,
                up: FrameResampler::new(rate, CORE_RATE)?,
            });
            return Ok(vec![WsMessage::Text(first)]);
        }
        if matches!(ev, Inbound::Connected | Inbound::Ignored(_)) {
            return Ok(Vec::new());
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(TransportError::MissingStart("caller event"));
        };
        match ev {
            Inbound::Audio { pcm16k, .. } => {
                check_outbound_len(pcm16k)?;
                Ok(stream
                    .down
                    .frames_padded(pcm16k)?
                    .iter()
                    .map(|f| WsMessage::Binary(sb_audio::l16le_from_i16(f)))
                    .collect())
            }
            Inbound::Dtmf { digit, duration_ms } => Ok(vec![WsMessage::Text(to_text(&Dtmf {
                event: "websocket:dtmf",
                digit: digit.to_string(),
                duration: *duration_ms,
            })?)]),
            Inbound::Mark { name } => Ok(vec![WsMessage::Text(to_text(&Event {
                event: "websocket:notify",
                payload: Some(&MarkPayload { mark: name }),
            })?)]),
            Inbound::Notify { payload } => text("websocket:notify", Some(payload)),
            Inbound::Cleared => text("websocket:cleared", None),
            Inbound::Stop => {
                self.closed = true;
                Ok(Vec::new())
            }
            Inbound::Connected | Inbound::Ignored(_) | Inbound::Start(_) => Ok(Vec::new()),
        }
    }

    fn decode(&mut self, msg: WsMessage) -> Result<Vec<Outbound>> {
        if self.closed {
            return Err(TransportError::AfterStop("server message"));
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(TransportError::MissingStart("server message"));
        };
        match msg {
            WsMessage::Binary(bytes) => {
                let pcm = stream.up.push(&frame_samples(&bytes, stream.rate)?)?;
                Ok(if pcm.is_empty() {
                    Vec::new()
                } else {
                    vec![Outbound::Audio(pcm)]
                })
            }
            WsMessage::Text(text) => {
                let obj = parse_object(&text)?;
                match req_str(&obj, "action")? {
                    "notify" => match obj.get("payload").and_then(|p| p.get("mark")) {
                        Some(Value::String(name)) => Ok(vec![Outbound::Mark(name.clone())]),
                        _ => Err(TransportError::Unsupported(
                            "notify payload without a mark".into(),
                        )),
                    },
                    "clear" => {
                        stream.up.reset();
                        Ok(vec![Outbound::Clear])
                    }
                    other => Err(TransportError::UnknownEvent(other.to_owned())),
                }
            }
        }
    }
}
