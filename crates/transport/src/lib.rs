//! sb-transport: Twilio Media Streams and Vonage Voice WebSocket codecs (sans-IO, pure).
//!
//! A driver reads a WebSocket message, hands it to [`Codec::decode`] and feeds the resulting
//! [`Inbound`] events to the call core; call-core outputs go through [`Codec::encode`] and the
//! returned [`WsMessage`]s are written back. Nothing here does I/O, reads the clock or panics on
//! bad input. Audio crossing the [`Codec`] boundary is always 16 kHz mono 16-bit PCM.
//!
//! * [`TwilioServer`] / [`VonageServer`]: our side of each platform's stream.
//! * [`TwilioCaller`] / [`VonageCaller`]: the platform's side, for simulated callers and tests.
//! * [`twiml`] / [`ncco`]: call-setup documents; [`twilio_sig`]: webhook signatures;
//!   [`mod@vonage_jwt`]: tokens for Vonage REST call control; [`vonage_sig`]: Vonage signed
//!   webhooks.

mod caller_twilio;
mod caller_vonage;
mod error;
mod json;
mod media;
pub mod ncco;
mod twilio;
pub mod twilio_sig;
pub mod twiml;
mod vonage;
pub mod vonage_jwt;
pub mod vonage_sig;

use std::collections::BTreeMap;

pub use caller_twilio::TwilioCaller;
pub use caller_vonage::VonageCaller;
pub use error::{Result, TransportError};
pub use json::MAX_TEXT_BYTES;
pub use media::{CORE_RATE, MAX_OUTBOUND_SAMPLES};
pub use ncco::{ncco_connect, ncco_transfer};
pub use twilio::{TwilioServer, TwilioStats};
pub use twilio_sig::{twilio_signature, verify_twilio_signature, TwilioCredentials};
pub use twiml::{
    twiml_connect_stream, twiml_connect_stream_action, twiml_dial, twiml_hangup, twiml_redirect,
};
pub use vonage::{VonageServer, VONAGE_CALL_ID_HEADER};
pub use vonage_jwt::{vonage_jwt, VonageJwtSigner};
pub use vonage_sig::{sign_vonage_webhook, verify_vonage_webhook, VonageSigError};

/// One WebSocket data message (control frames and close are the driver's business).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsMessage {
    Text(String),
    Binary(Vec<u8>),
}

/// Stream metadata from the platform's start message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StartInfo {
    /// Twilio `callSid`; Vonage: the `uuid` header (empty when the NCCO did not send one).
    pub call_id: String,
    /// Twilio `streamSid`; empty for Vonage.
    pub stream_id: String,
    /// Twilio `accountSid`; empty for Vonage.
    pub account_id: String,
    /// Twilio `customParameters`; Vonage: every other header of the first message.
    pub custom_parameters: BTreeMap<String, String>,
    /// The wire rate (8000 for Twilio; 8000/16000/24000 for Vonage).
    pub sample_rate: u32,
    /// The wire encoding (`audio/x-mulaw` or `audio/l16`).
    pub encoding: String,
}

/// What the platform told us, typed. Audio is already 16 kHz mono.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// The socket is up (Twilio `connected`; Vonage's first message, before `Start`).
    Connected,
    /// The media stream started.
    Start(StartInfo),
    /// Caller audio at 16 kHz; `at_ms` is the media time of its first sample: its place in the
    /// stream (a media clock, not wall time). Twilio: the audio delivered so far plus what its
    /// media `timestamp`s show it lost; Vonage: the frames delivered so far. A driver places it
    /// on the call's timeline with `sb_call::MediaClock`.
    Audio { pcm16k: Vec<i16>, at_ms: u64 },
    /// A keypress. Vonage reports a duration; Twilio does not.
    Dtmf {
        digit: char,
        duration_ms: Option<u32>,
    },
    /// All audio sent before our mark of this name has been played.
    Mark { name: String },
    /// The stream ended (Twilio `stop`, or the socket closed: see [`Codec::on_close`]).
    Stop,
    /// The platform confirmed a `Clear` (Vonage `websocket:cleared`).
    Cleared,
    /// A Vonage `websocket:notify` whose payload is not one of our marks.
    Notify { payload: serde_json::Value },
    /// A well-formed message with nothing for the call core (unknown future event, …).
    Ignored(String),
}

/// What the call core asks the platform to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// Play 16 kHz mono audio (queued after what was sent before).
    Audio(Vec<i16>),
    /// Report back (as [`Inbound::Mark`]) once everything queued before it has played.
    Mark(String),
    /// Drop all queued audio (barge-in).
    Clear,
}

/// Our side of one platform connection: stateful, one per WebSocket.
pub trait Codec {
    /// One message from the platform → zero or more typed events.
    fn decode(&mut self, msg: WsMessage) -> Result<Vec<Inbound>>;
    /// One call-core output → the messages to send (possibly none).
    fn encode(&mut self, out: &Outbound) -> Result<Vec<WsMessage>>;
    /// The bot starts a new reply (its first audio follows). A codec that converts the rate may
    /// drop its resampler's history, so the reply doesn't wait behind the resampler's delay.
    fn reply_starts(&mut self) {}
    /// The socket closed: the events to feed the call core ([`Inbound::Stop`] unless the stream
    /// already stopped). Later `decode`/`encode` calls fail with [`TransportError::AfterStop`].
    fn on_close(&mut self) -> Vec<Inbound>;
}

/// The platform's side of a connection, for simulated callers: the mirror of [`Codec`].
pub trait CallerCodec {
    /// A platform event → the platform's wire messages (`Inbound` doubles as the vocabulary of
    /// what a platform can say).
    fn encode(&mut self, ev: &Inbound) -> Result<Vec<WsMessage>>;
    /// One message from the server → what it asked for.
    fn decode(&mut self, msg: WsMessage) -> Result<Vec<Outbound>>;
    /// Delay the simulated phone's own rate conversion adds (ms): (caller audio out, bot audio
    /// in). A real platform streams its native rate and has none, so a caller measuring on the
    /// wire's timeline takes it off. 0 when the line runs at the core rate.
    fn conversion_delay_ms(&self) -> (u64, u64) {
        (0, 0)
    }
}

/// The phone platforms this crate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Twilio,
    Vonage,
}

/// A fresh server-side codec for `platform`.
pub fn server_codec(platform: Platform) -> Result<Box<dyn Codec + Send>> {
    Ok(match platform {
        Platform::Twilio => Box::new(TwilioServer::new()?),
        Platform::Vonage => Box::new(VonageServer::new()),
    })
}

/// A fresh caller-side codec for `platform`.
pub fn caller_codec(platform: Platform) -> Result<Box<dyn CallerCodec + Send>> {
    Ok(match platform {
        Platform::Twilio => Box::new(TwilioCaller::new()?),
        Platform::Vonage => Box::new(VonageCaller::new()),
    })
}
