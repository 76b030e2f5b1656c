//! Our side of a bidirectional Twilio Media Stream (`<Connect><Stream>`).

use serde::Serialize;
use serde_json::Value;

use crate::json::{
    decode_b64, dtmf_digit, encode_b64, malformed, opt_obj, opt_str, opt_uint, parse_object,
    req_obj, req_str, string_map, to_text, Obj,
};
use crate::media::{check_outbound_len, core_ms, FrameResampler, CORE_RATE};
use crate::{Codec, Inbound, Outbound, Result, StartInfo, TransportError, WsMessage};

/// Twilio's wire rate and encoding.
pub(crate) const TWILIO_RATE: u32 = 8000;
pub(crate) const TWILIO_ENCODING: &str = "audio/x-mulaw";
/// One media frame (Twilio sends 20 ms per message).
const FRAME_MS: u64 = 20;
/// Largest media payload accepted in one message: 1 s of 8 kHz μ-law.
pub(crate) const MAX_MEDIA_BYTES: usize = TWILIO_RATE as usize;

/// Counters a driver may export as metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TwilioStats {
    /// Messages skipped by Twilio according to `sequenceNumber` (gaps are tolerated).
    pub sequence_gaps: u64,
    /// Media bytes (μ-law samples) received.
    pub media_bytes: u64,
}

/// Server-side codec for one Twilio Media Streams WebSocket.
///
/// Decoding checks that media/dtmf/mark/stop come after `start`, carry its `streamSid`, and that
/// `sequenceNumber` strictly increases; nothing is accepted after `stop`. Unknown events decode
/// to [`Inbound::Ignored`] (Twilio may add events). Outbound audio is cut into 20 ms frames of
/// 160 μ-law bytes, the last padded with silence.
pub struct TwilioServer {
    stream_sid: Option<String>,
    stopped: bool,
    last_seq: Option<u64>,
    stats: TwilioStats,
    up: FrameResampler,
    down: FrameResampler,
    samples_in: u64,
    /// Media received so far (ms of the stream, by Twilio's `timestamp`s and payload lengths).
    media_in_ms: u64,
    /// Media time Twilio skipped (lost audio its timestamps show), added to the samples' time.
    skipped_ms: u64,
}

#[derive(Serialize)]
struct OutMedia<'a> {
    event: &'static str,
    #[serde(rename = "streamSid")]
    stream_sid: &'a str,
    media: OutPayload<'a>,
}

#[derive(Serialize)]
struct OutPayload<'a> {
    payload: &'a str,
}

#[derive(Serialize)]
struct OutMark<'a> {
    event: &'static str,
    #[serde(rename = "streamSid")]
    stream_sid: &'a str,
    mark: OutName<'a>,
}

#[derive(Serialize)]
pub(crate) struct OutName<'a> {
    pub(crate) name: &'a str,
}

#[derive(Serialize)]
struct OutClear<'a> {
    event: &'static str,
    #[serde(rename = "streamSid")]
    stream_sid: &'a str,
}

impl TwilioServer {
    /// A codec waiting for Twilio's `connected`/`start`.
    pub fn new() -> Result<Self> {
        Ok(Self {
            stream_sid: None,
            stopped: false,
            last_seq: None,
            stats: TwilioStats::default(),
            up: FrameResampler::new(TWILIO_RATE, CORE_RATE)?,
            down: FrameResampler::new(CORE_RATE, TWILIO_RATE)?,
            samples_in: 0,
            media_in_ms: 0,
            skipped_ms: 0,
        })
    }

    /// The `streamSid` once started.
    pub fn stream_sid(&self) -> Option<&str> {
        self.stream_sid.as_deref()
    }

    /// Counters for metrics.
    pub fn stats(&self) -> TwilioStats {
        self.stats
    }

    fn check_sequence(&mut self, obj: &Obj) -> Result<()> {
        let Some(seq) = opt_uint(obj, "sequenceNumber")? else {
            return Ok(());
        };
        if let Some(last) = self.last_seq {
            if seq <= last {
                return Err(TransportError::Sequence { last, got: seq });
            }
            self.stats.sequence_gaps = self
                .stats
                .sequence_gaps
                .saturating_add(seq.saturating_sub(last).saturating_sub(1));
        }
        self.last_seq = Some(seq);
        Ok(())
    }

    fn started(&self, obj: &Obj, what: &'static str) -> Result<()> {
        let Some(ours) = self.stream_sid.as_deref() else {
            return Err(TransportError::MissingStart(what));
        };
        match opt_str(obj, "streamSid")? {
            Some(theirs) if theirs != ours => Err(TransportError::StreamMismatch {
                expected: ours.to_owned(),
                got: theirs.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    fn decode_start(&mut self, obj: &Obj) -> Result<Vec<Inbound>> {
        if self.stream_sid.is_some() {
            return Err(malformed("second start on one stream"));
        }
        let start = req_obj(obj, "start")?;
        let stream_sid = match opt_str(start, "streamSid")? {
            Some(s) => s,
            None => req_str(obj, "streamSid")?,
        };
        if stream_sid.is_empty() {
            return Err(malformed("empty streamSid"));
        }
        if let Some(fmt) = opt_obj(start, "mediaFormat")? {
            let encoding = opt_str(fmt, "encoding")?.unwrap_or(TWILIO_ENCODING);
            let rate = opt_uint(fmt, "sampleRate")?.unwrap_or(u64::from(TWILIO_RATE));
            let channels = opt_uint(fmt, "channels")?.unwrap_or(1);
            if !encoding.eq_ignore_ascii_case(TWILIO_ENCODING)
                || rate != u64::from(TWILIO_RATE)
                || channels != 1
            {
                return Err(TransportError::Unsupported(format!(
                    "media format {encoding} {rate} Hz x{channels}"
                )));
            }
        }
        let custom_parameters = opt_obj(start, "customParameters")?
            .map(string_map)
            .unwrap_or_default();
        let info = StartInfo {
            call_id: opt_str(start, "callSid")?.unwrap_or_default().to_owned(),
            stream_id: stream_sid.to_owned(),
            account_id: opt_str(start, "accountSid")?.unwrap_or_default().to_owned(),
            custom_parameters,
            sample_rate: TWILIO_RATE,
            encoding: TWILIO_ENCODING.to_owned(),
        };
        self.stream_sid = Some(info.stream_id.clone());
        Ok(vec![Inbound::Start(info)])
    }

    fn decode_media(&mut self, obj: &Obj) -> Result<Vec<Inbound>> {
        let media = req_obj(obj, "media")?;
        match opt_str(media, "track")? {
            None | Some("inbound") => {}
            Some(other) => return Ok(vec![Inbound::Ignored(format!("media track {other}"))]),
        }
        let bytes = decode_b64(req_str(media, "payload")?, MAX_MEDIA_BYTES)?;
        if bytes.len() > MAX_MEDIA_BYTES {
            return Err(TransportError::TooLarge {
                len: bytes.len(),
                max: MAX_MEDIA_BYTES,
            });
        }
        self.stats.media_bytes = self.stats.media_bytes.saturating_add(bytes.len() as u64);
        // `timestamp` is the chunk's place in the stream (ms from its start): a jump of more
        // than a frame is audio Twilio lost, and the media time jumps with it. One that is
        // missing or unreadable tells nothing; the samples' count goes on.
        if let Ok(Some(ts)) = opt_uint(media, "timestamp") {
            if ts > self.media_in_ms.saturating_add(FRAME_MS) {
                self.skipped_ms = self.skipped_ms.saturating_add(ts - self.media_in_ms);
                self.media_in_ms = ts;
            }
        }
        self.media_in_ms = self
            .media_in_ms
            .saturating_add(bytes.len() as u64 / u64::from(TWILIO_RATE / 1000));
        let pcm8k = sb_audio::ulaw_decode(&bytes);
        let pcm16k = self.up.push(&pcm8k)?;
        if pcm16k.is_empty() {
            return Ok(Vec::new());
        }
        let at_ms = core_ms(self.samples_in).saturating_add(self.skipped_ms);
        self.samples_in = self.samples_in.saturating_add(pcm16k.len() as u64);
        Ok(vec![Inbound::Audio { pcm16k, at_ms }])
    }

    fn decode_text(&mut self, text: &str) -> Result<Vec<Inbound>> {
        let obj = parse_object(text)?;
        let event = req_str(&obj, "event")?;
        if self.stopped {
            return Err(TransportError::AfterStop("message"));
        }
        // Stream membership first, so a stray message cannot advance our sequence.
        let needs_stream = match event {
            "media" => Some("media"),
            "dtmf" => Some("dtmf"),
            "mark" => Some("mark"),
            "stop" => Some("stop"),
            _ => None,
        };
        if let Some(what) = needs_stream {
            self.started(&obj, what)?;
        }
        self.check_sequence(&obj)?;
        match event {
            "connected" => Ok(vec![Inbound::Connected]),
            "start" => self.decode_start(&obj),
            "media" => self.decode_media(&obj),
            "dtmf" => {
                let digit = dtmf_digit(req_str(req_obj(&obj, "dtmf")?, "digit")?)?;
                Ok(vec![Inbound::Dtmf {
                    digit,
                    duration_ms: None,
                }])
            }
            "mark" => {
                let name = req_str(req_obj(&obj, "mark")?, "name")?.to_owned();
                Ok(vec![Inbound::Mark { name }])
            }
            "stop" => {
                self.stopped = true;
                Ok(vec![Inbound::Stop])
            }
            other => Ok(vec![Inbound::Ignored(format!("twilio event {other}"))]),
        }
    }
}

impl Codec for TwilioServer {
    fn reply_starts(&mut self) {
        self.down.restart();
    }

    fn decode(&mut self, msg: WsMessage) -> Result<Vec<Inbound>> {
        match msg {
            WsMessage::Text(text) => self.decode_text(&text),
            WsMessage::Binary(b) => Err(TransportError::Unsupported(format!(
                "binary message of {} bytes on a Twilio stream",
                b.len()
            ))),
        }
    }

    fn encode(&mut self, out: &Outbound) -> Result<Vec<WsMessage>> {
        if self.stopped {
            return Err(TransportError::AfterStop("outbound message"));
        }
        let Some(sid) = self.stream_sid.as_deref() else {
            return Err(TransportError::MissingStart("outbound message"));
        };
        match out {
            Outbound::Audio(pcm) => {
                check_outbound_len(pcm)?;
                let frames = self.down.frames_aligned(pcm)?;
                frames
                    .iter()
                    .map(|f| {
                        let payload = encode_b64(&sb_audio::ulaw_encode(f));
                        to_text(&OutMedia {
                            event: "media",
                            stream_sid: sid,
                            media: OutPayload { payload: &payload },
                        })
                        .map(WsMessage::Text)
                    })
                    .collect()
            }
            Outbound::Mark(name) => Ok(vec![WsMessage::Text(to_text(&OutMark {
                event: "mark",
                stream_sid: sid,
                mark: OutName { name },
            })?)]),
            Outbound::Clear => {
                let msg = to_text(&OutClear {
                    event: "clear",
                    stream_sid: sid,
                })?;
                self.down.reset();
                Ok(vec![WsMessage::Text(msg)])
            }
        }
    }

    fn on_close(&mut self) -> Vec<Inbound> {
        if std::mem::replace(&mut self.stopped, true) {
            Vec::new()
        } else {
            vec![Inbound::Stop]
        }
    }
}

/// The required `streamSid` of a server message (used by the caller codec).
pub(crate) fn stream_sid_of(obj: &Obj) -> Result<&str> {
    match obj.get("streamSid") {
        Some(Value::String(s)) => Ok(s),
        _ => Err(malformed("missing streamSid")),
    }
}
