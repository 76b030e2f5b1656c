//! Per-call configuration, validated when the session is created.

use sb_contracts::vad::EndpointConfig;
use sb_nlu::dialog::SessionState;
use serde_json::{Map, Value};

/// Errors creating a call session. Running a session never fails: bad inputs are ignored.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("call config: {0}")]
    Config(String),
    /// The VAD's frame length cannot be end-pointed (0, or longer than a second).
    #[error("VAD frame length {0} is unusable")]
    VadFrame(usize),
    #[error("end-pointing: {0}")]
    Endpoint(#[from] sb_contracts::SpeechError),
}

/// Continue a paused session (Twilio `resumeEndUserId` / `resumeEventName`).
#[derive(Debug, Clone, PartialEq)]
pub struct Resume {
    /// The state saved when the session paused.
    pub state: SessionState,
    /// Event to send first (e.g. `RESUME_BOOKING`); `None`: just listen.
    pub event: Option<String>,
}

/// How one call behaves. [`Default`] gives telephony-friendly values.
#[derive(Debug, Clone, PartialEq)]
pub struct CallConfig {
    /// Event that starts the conversation (Twilio `welcomeIntent`).
    pub welcome_event: String,
    pub endpoint: EndpointConfig,
    /// Caller speech (or a DTMF key) interrupts the bot.
    pub barge_in: bool,
    /// Voiced speech needed before a barge-in counts (shorter sounds, e.g. coughs, are ignored).
    pub barge_in_min_speech_ms: u32,
    /// Silence after the bot finished speaking before the caller is re-prompted.
    pub no_input_timeout_ms: u32,
    /// Re-prompts before giving up: the next no-input says `goodbye_prompt` and hangs up.
    pub max_no_input: u32,
    /// Said before the agent's last prompt on a no-input re-prompt (empty: repeat the prompt only).
    pub no_input_prompt: String,
    /// Said before hanging up after too many no-inputs (empty: hang up silently).
    pub goodbye_prompt: String,
    /// A DTMF entry ends this long after its last key.
    pub dtmf_inter_digit_ms: u32,
    /// Key that ends a DTMF entry at once (not part of the digits).
    pub dtmf_terminator: char,
    /// Analyse the sentiment of what the caller said (needs [`crate::CallSession::with_sentiment`]).
    pub sentiment: bool,
    /// Language code of queries.
    pub language: String,
    /// Time zone of queries (`None`: the agent's).
    pub time_zone: Option<String>,
    /// `$session.params` (Twilio `<Parameter>`s / Vonage headers), merged on the first turn.
    pub session_params: Map<String, Value>,
    /// Longest call; the session hangs up when it is reached (0: no limit).
    pub max_call_ms: u64,
    /// Continue a paused session instead of sending the welcome event.
    pub resume: Option<Resume>,
    /// DF session path; `None`: `projects/{agent project}/agent/sessions/{call_id}`.
    pub session: Option<String>,
    /// `originalDetectIntentRequest.source` for webhooks.
    pub source: String,
    /// `originalDetectIntentRequest.payload` of every turn's webhook request (Dialogflow's phone
    /// gateway: `{"telephony": {"caller_id": "+1…"}}`).
    pub payload: Option<Value>,
    /// A playback mark that the platform never echoes counts as echoed this long after the audio
    /// before it should have finished playing.
    pub mark_grace_ms: u32,
    /// Longest wait for an ASR result, webhook result or TTS chunk before the core gives up on it.
    pub work_timeout_ms: u32,
    /// Words (lower case) after which a caller who pauses is taken to go on: an early guess
    /// that ends in one is not answered. Language-specific; the default is English.
    pub dangling_words: Vec<String>,
}

impl Default for CallConfig {
    fn default() -> Self {
        Self {
            welcome_event: "WELCOME".into(),
            endpoint: EndpointConfig::default(),
            barge_in: true,
            barge_in_min_speech_ms: 300,
            no_input_timeout_ms: 7_000,
            max_no_input: 2,
            no_input_prompt: "Sorry, I didn't hear anything.".into(),
            goodbye_prompt: "Sorry, I couldn't hear you. Goodbye!".into(),
            dtmf_inter_digit_ms: 3_000,
            dtmf_terminator: '#',
            sentiment: false,
            language: "en".into(),
            time_zone: None,
            session_params: Map::new(),
            max_call_ms: 3_600_000,
            resume: None,
            session: None,
            source: "switchboard".into(),
            payload: None,
            mark_grace_ms: 3_000,
            work_timeout_ms: 20_000,
            dangling_words: crate::early::DEFAULT_DANGLING_WORDS
                .iter()
                .map(|w| w.to_string())
                .collect(),
        }
    }
}

impl CallConfig {
    /// Checks ranges; the message names the bad field.
    pub fn validate(&self) -> Result<(), CallError> {
        let bad = |m: &str| Err(CallError::Config(m.to_string()));
        self.endpoint
            .validate()
            .map_err(|e| CallError::Config(e.to_string()))?;
        if self.welcome_event.trim().is_empty() && self.resume.is_none() {
            return bad("welcome_event is empty");
        }
        if self.language.trim().is_empty() {
            return bad("language is empty");
        }
        if self.no_input_timeout_ms == 0 {
            return bad("no_input_timeout_ms must be > 0");
        }
        if self.dtmf_inter_digit_ms == 0 {
            return bad("dtmf_inter_digit_ms must be > 0");
        }
        if self.dtmf_terminator.is_ascii_digit() {
            return bad("dtmf_terminator must not be a digit");
        }
        if self.work_timeout_ms == 0 {
            return bad("work_timeout_ms must be > 0");
        }
        Ok(())
    }
}
