//! Twilio's side of a Media Stream, for simulated callers and tests.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::json::{decode_b64, encode_b64, parse_object, req_obj, req_str, to_text};
use crate::media::{check_outbound_len, FrameResampler, CORE_RATE};
use crate::twilio::{stream_sid_of, OutName, MAX_MEDIA_BYTES, TWILIO_ENCODING, TWILIO_RATE};
use crate::{CallerCodec, Inbound, Outbound, Result, StartInfo, TransportError, WsMessage};

/// Produces the messages Twilio sends (with increasing `sequenceNumber`, `chunk` and
/// `timestamp`) and decodes the server's `media`/`mark`/`clear` (strictly, as Twilio does:
/// binary frames, unknown events and a wrong `streamSid` are errors).
///
/// `Inbound::Audio` is sent as 20 ms media messages (the last padded with silence); its
/// `at_ms` is ignored (timestamps advance 20 ms per chunk). `Connected`/`Start`/`Stop` map to
/// `connected`/`start`/`stop`, `Mark` to a mark echo, `Dtmf` to `dtmf`. `Cleared` and `Notify`
/// have no Twilio form and are errors; `Ignored` sends nothing.
pub struct TwilioCaller {
    start: Option<StartInfo>,
    stopped: bool,
    seq: u64,
    chunk: u64,
    down: FrameResampler,
    up: FrameResampler,
}

#[derive(Serialize)]
struct Connected {
    event: &'static str,
    protocol: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Msg<'a, B: Serialize> {
    event: &'static str,
    #[serde(rename = "sequenceNumber")]
    sequence_number: String,
    #[serde(rename = "streamSid")]
    stream_sid: &'a str,
    #[serde(flatten)]
    body: B,
}

#[derive(Serialize)]
struct StartBody<'a> {
    start: StartFields<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartFields<'a> {
    account_sid: &'a str,
    stream_sid: &'a str,
    call_sid: &'a str,
    tracks: [&'static str; 1],
    custom_parameters: &'a BTreeMap<String, String>,
    media_format: MediaFormat,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MediaFormat {
    encoding: &'static str,
    sample_rate: u32,
    channels: u32,
}

#[derive(Serialize)]
struct MediaBody<'a> {
    media: MediaFields<'a>,
}

#[derive(Serialize)]
struct MediaFields<'a> {
    track: &'static str,
    chunk: String,
    timestamp: String,
    payload: &'a str,
}

#[derive(Serialize)]
struct DtmfBody {
    dtmf: DtmfFields,
}

#[derive(Serialize)]
struct DtmfFields {
    track: &'static str,
    digit: String,
}

#[derive(Serialize)]
struct MarkBody<'a> {
    mark: OutName<'a>,
}

#[derive(Serialize)]
struct StopBody<'a> {
    stop: StopFields<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StopFields<'a> {
    account_sid: &'a str,
    call_sid: &'a str,
}

impl TwilioCaller {
    /// A caller that has sent nothing yet.
    pub fn new() -> Result<Self> {
        Ok(Self {
            start: None,
            stopped: false,
            seq: 0,
            chunk: 0,
            down: FrameResampler::new(CORE_RATE, TWILIO_RATE)?,
            up: FrameResampler::new(TWILIO_RATE, CORE_RATE)?,
        })
    }

    fn next_seq(&mut self) -> String {
        self.seq = self.seq.saturating_add(1);
        self.seq.to_string()
    }

    fn msg<B: Serialize>(&mut self, event: &'static str, body: B) -> Result<WsMessage> {
        let seq = self.next_seq();
        let sid = self.start.as_ref().map_or("", |s| s.stream_id.as_str());
        Ok(WsMessage::Text(to_text(&Msg {
            event,
            sequence_number: seq,
            stream_sid: sid,
            body,
        })?))
    }

    fn media(&mut self, pcm16k: &[i16]) -> Result<Vec<WsMessage>> {
        check_outbound_len(pcm16k)?;
        let frames = self.down.frames_padded(pcm16k)?;
        let mut out = Vec::with_capacity(frames.len());
        for f in frames {
            let payload = encode_b64(&sb_audio::ulaw_encode(&f));
            let timestamp = (self.chunk.saturating_mul(20)).to_string();
            self.chunk = self.chunk.saturating_add(1);
            let body = MediaBody {
                media: MediaFields {
                    track: "inbound",
                    chunk: self.chunk.to_string(),
                    timestamp,
                    payload: &payload,
                },
            };
            out.push(self.msg("media", body)?);
        }
        Ok(out)
    }
}

impl CallerCodec for TwilioCaller {
    fn conversion_delay_ms(&self) -> (u64, u64) {
        (self.down.delay_ms(), self.up.delay_ms())
    }

    fn encode(&mut self, ev: &Inbound) -> Result<Vec<WsMessage>> {
        if self.stopped {
            return Err(TransportError::AfterStop("caller event"));
        }
        if let Inbound::Connected = ev {
            return Ok(vec![WsMessage::Text(to_text(&Connected {
                event: "connected",
                protocol: "Call",
                version: "1.0.0",
            })?)]);
        }
        if let Inbound::Start(info) = ev {
            if self.start.is_some() {
                return Err(crate::json::malformed("second start on one stream"));
            }
            self.start = Some(info.clone());
            let body = StartBody {
                start: StartFields {
                    account_sid: &info.account_id,
                    stream_sid: &info.stream_id,
                    call_sid: &info.call_id,
                    tracks: ["inbound"],
                    custom_parameters: &info.custom_parameters,
                    media_format: MediaFormat {
                        encoding: TWILIO_ENCODING,
                        sample_rate: TWILIO_RATE,
                        channels: 1,
                    },
                },
            };
            return Ok(vec![self.msg("start", body)?]);
        }
        let Some(info) = self.start.clone() else {
            return Err(TransportError::MissingStart("caller event"));
        };
        match ev {
            Inbound::Audio { pcm16k, .. } => self.media(pcm16k),
            Inbound::Dtmf { digit, .. } => {
                let body = DtmfBody {
                    dtmf: DtmfFields {
                        track: "inbound_track",
                        digit: digit.to_string(),
                    },
                };
                Ok(vec![self.msg("dtmf", body)?])
            }
            Inbound::Mark { name } => Ok(vec![self.msg(
                "mark",
                MarkBody {
                    mark: OutName { name },
                },
            )?]),
            Inbound::Stop => {
                let body = StopBody {
                    stop: StopFields {
                        account_sid: &info.account_id,
                        call_sid: &info.call_id,
                    },
                };
                let msg = self.msg("stop", body)?;
                self.stopped = true;
                Ok(vec![msg])
            }
            Inbound::Ignored(_) => Ok(Vec::new()),
            Inbound::Cleared | Inbound::Notify { .. } => Err(TransportError::Unsupported(
                "Twilio has no cleared/notify message".into(),
            )),
            Inbound::Connected | Inbound::Start(_) => Ok(Vec::new()),
        }
    }

    fn decode(&mut self, msg: WsMessage) -> Result<Vec<Outbound>> {
        let text = match msg {
            WsMessage::Text(t) => t,
            WsMessage::Binary(b) => {
                return Err(TransportError::Unsupported(format!(
                    "binary message of {} bytes (Twilio accepts JSON text only)",
                    b.len()
                )))
            }
        };
        if self.stopped {
            return Err(TransportError::AfterStop("server message"));
        }
        let obj = parse_object(&text)?;
        let event = req_str(&obj, "event")?;
        let Some(ours) = self.start.as_ref().map(|s| s.stream_id.as_str()) else {
            return Err(TransportError::MissingStart("server message"));
        };
        let theirs = stream_sid_of(&obj)?;
        if theirs != ours {
            return Err(TransportError::StreamMismatch {
                expected: ours.to_owned(),
                got: theirs.to_owned(),
            });
        }
        match event {
            "media" => {
                let payload = req_str(req_obj(&obj, "media")?, "payload")?;
                let bytes = decode_b64(payload, MAX_MEDIA_BYTES)?;
                let pcm = self.up.push(&sb_audio::ulaw_decode(&bytes))?;
                Ok(if pcm.is_empty() {
                    Vec::new()
                } else {
                    vec![Outbound::Audio(pcm)]
                })
            }
            "mark" => Ok(vec![Outbound::Mark(
                req_str(req_obj(&obj, "mark")?, "name")?.to_owned(),
            )]),
            "clear" => {
                self.up.reset();
                Ok(vec![Outbound::Clear])
            }
            other => Err(TransportError::UnknownEvent(other.to_owned())),
        }
    }
}
