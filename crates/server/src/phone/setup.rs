//! [`Phone`]: everything the phone path shares across calls, built once at start.

use super::callbacks::{CallbackConfig, Callbacks};
use super::calls::CallStore;
use super::choices::SpeechChoices;
use super::connectors::{Connector, PhoneFile};
use super::handoff::{Handoff, HandoffConfig};
use super::metrics::Metrics;
use super::paused::PausedSessions;
use super::speech::{Speech, SpeechService, Texts};
use crate::state::{AppState, SentimentFn};
use crate::webhook::WebhookClient;
use anyhow::Context;
use sb_nlu::agent::Message;
use sb_nlu::engine::Engine;
use sb_speech::asr::{Asr, WhisperAsr};
use sb_speech::models::ModelStore;
use sb_speech::tts::{PiperOptions, PiperTts, Tts};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify, Semaphore};

/// Per-connector runtime pieces.
pub struct ConnectorRt {
    pub name: String,
    pub cfg: Connector,
    /// The agent in its default language.
    pub engine: Arc<Engine>,
    /// The agent in each language of its export, the default one first (`<Config
    /// name="language">` picks one).
    pub languages: Vec<(String, Arc<Engine>)>,
    pub callbacks: Callbacks,
    pub handoff: Handoff,
}

/// The phone path's shared state.
pub struct Phone {
    pub file: PhoneFile,
    pub connectors: HashMap<String, Arc<ConnectorRt>>,
    pub speech: Arc<dyn SpeechService>,
    /// The voices and recognisers calls may choose.
    pub choices: Arc<super::choices::SpeechChoices>,
    pub calls: CallStore,
    pub metrics: Arc<Metrics>,
    pub paused: PausedSessions,
    pub sentiment: Option<SentimentFn>,
    pub webhook: WebhookClient,
    /// One permit per concurrent call (taken at the start message).
    pub slots: Arc<Semaphore>,
    /// Sockets waiting for their start message; call ids held by live streams.
    pub admission: super::admission::Admission,
    /// Audio clips of replies (`telephonyPlayAudio`, SSML `<audio>`), by URI.
    pub clips: super::clips::Clips,
    /// The server's one clock: call start times, pause expiry, transcripts, callbacks.
    pub clock: Arc<dyn crate::clock::Clock>,
    /// Calls as live conversations in the agents' console.
    pub console: crate::web::phone_feed::PhoneFeed,
    shutdown: watch::Sender<bool>,
    next_key: AtomicU64,
    live: AtomicUsize,
    idle: Notify,
    /// How the sessions of Twilio calls started by our TwiML ended, for their action request.
    pub endings: super::action::Endings,
    /// Vonage calls handed off whose `disconnected` event gets the transfer NCCO.
    handed_off: std::sync::Mutex<std::collections::VecDeque<(String, serde_json::Value)>>,
}

/// Handed-off Vonage calls remembered for their `disconnected` event.
const MAX_HANDED_OFF: usize = 1_024;

/// Loads the embedded ASR and TTS (fetching the models on first use). Blocking.
pub fn load_models(
    threads: usize,
    language: &str,
    tz: Option<String>,
    tts_cache_mb: usize,
) -> anyhow::Result<(Arc<dyn Asr>, Arc<dyn Tts>)> {
    load_models_tuned(threads, language, tz, None, tts_cache_mb)
}

/// Default bound of the TTS unit cache (`phone.tts_cache_mb`).
pub const TTS_CACHE_MB: usize = 16;

/// [`load_models`] with the Piper voice's noise overridden (`Some((0.0, 0.0))`: the same text
/// always gives the same audio, so tests that listen to the bot hear the same thing every run).
pub fn load_models_with(
    threads: usize,
    language: &str,
    tz: Option<String>,
    tts_noise: Option<(f32, f32)>,
) -> anyhow::Result<(Arc<dyn Asr>, Arc<dyn Tts>)> {
    load_models_tuned(threads, language, tz, tts_noise, TTS_CACHE_MB)
}

fn load_models_tuned(
    threads: usize,
    language: &str,
    tz: Option<String>,
    tts_noise: Option<(f32, f32)>,
    tts_cache_mb: usize,
) -> anyhow::Result<(Arc<dyn Asr>, Arc<dyn Tts>)> {
    let store = ModelStore::from_env();
    let paths = store
        .ensure(&|m| tracing::info!("models: {m}"))
        .context("cannot fetch the speech models")?;
    let asr = WhisperAsr::load(
        &paths.whisper_dir,
        &store.root.join("cache"),
        threads.max(1),
    )
    .context("cannot load the ASR model")?;
    let locale = language.to_string();
    let norm: sb_speech::tts::Normalizer = Arc::new(move |t: &str| {
        sb_speech::normalize::normalize_for_speech(t, &locale, tz.as_deref())
    });
    // Two ONNX sessions, one per default TTS worker (`phone.tts_workers`): a reply's first
    // audio doesn't wait for another call's whole reply. A third, two-threaded one takes first
    // chunks when free (first audio of the booking reply 77 → 64 ms on one call).
    let opts = PiperOptions {
        split_first_clause: true,
        sessions: 2,
        head_threads: 2,
        noise: tts_noise,
        // Repeated opening clauses of dynamic replies come from memory (see `UnitCache`).
        unit_cache_bytes: tts_cache_mb << 20,
        ..PiperOptions::default()
    };
    let tts = PiperTts::load_with(&paths, opts)
        .context("cannot load the TTS voice")?
        .with_normalizer(norm);
    Ok((Arc::new(asr), Arc::new(tts)))
}

/// Every static text response of an agent (for the prompt cache). Of an SSML response, the
/// words it says at the voice's own rate (each is one step of the reply).
pub fn static_prompts(engine: &Engine) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |v: &str| {
        if v.contains('$') || v.contains('#') {
            return;
        }
        for p in sb_speech::ssml::pieces_of(v).pieces {
            if let sb_speech::ssml::Piece::Speech { text, rate } = p {
                if rate == 1.0 {
                    out.push(text);
                }
            }
        }
    };
    for intent in &engine.agent.intents {
        for m in &intent.messages {
            match m {
                Message::Text { variants, .. } => variants.iter().for_each(|v| add(v)),
                Message::SynthesizeSpeech { text, ssml, .. } => {
                    if let Some(v) = ssml.as_deref().or(text.as_deref()) {
                        add(v);
                    }
                }
                _ => {}
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// An agent's dynamic text responses ("Table booked for $person at $time.") with each
/// parameter reference replaced by a plain word. Their first TTS chunk is synthesised at start
/// so the unit cache holds the static opening ("Table booked,") before the first call.
pub fn dynamic_openings(engine: &Engine) -> Vec<String> {
    let mut out = Vec::new();
    for intent in &engine.agent.intents {
        for m in &intent.messages {
            if let Message::Text { variants, .. } = m {
                out.extend(variants.iter().filter_map(|v| with_references_filled(v)));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `text` with every parameter reference read as "that", when it has one and at least two
/// words before the first (else no static opening can come first).
fn with_references_filled(text: &str) -> Option<String> {
    let filled = sb_nlu::template::references_filled(text, "that");
    let first = text.find(['$', '#'])?;
    (filled != text && text[..first].split_whitespace().count() >= 2).then_some(filled)
}

impl Phone {
    /// Builds the phone path over `app` with speech engines `asr`/`tts` and attaches it
    /// (`app.phone`). Blocking (prompt synthesis): call from a blocking context.
    pub fn start(
        app: &AppState,
        file: PhoneFile,
        asr: Arc<dyn Asr>,
        tts: Arc<dyn Tts>,
    ) -> anyhow::Result<Arc<Phone>> {
        Phone::start_choosing(app, file, asr, tts, SpeechChoices::none())
    }

    /// [`Phone::start`] with the voices and recognisers calls may choose besides `asr`/`tts`.
    pub fn start_choosing(
        app: &AppState,
        file: PhoneFile,
        asr: Arc<dyn Asr>,
        tts: Arc<dyn Tts>,
        choices: SpeechChoices,
    ) -> anyhow::Result<Arc<Phone>> {
        let (asr_workers, tts_workers, jobs) = {
            let l = &file.phone;
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let asr = if l.asr_workers == 0 {
                cores
            } else {
                l.asr_workers
            };
            (asr, l.tts_workers, l.jobs_per_call)
        };
        tracing::info!(asr_workers, "starting the speech workers");
        Phone::start_with(app, file, choices, move |texts, metrics| {
            let speech: Arc<dyn SpeechService> =
                Speech::start(asr, tts, asr_workers, tts_workers, jobs, texts, metrics)?;
            Ok(speech)
        })
    }

    /// [`Phone::start`] with the speech side built by `speech` from the agents' prompts (the
    /// worker pools in production; scripted providers in tests).
    pub fn start_with(
        app: &AppState,
        file: PhoneFile,
        choices: SpeechChoices,
        speech: impl FnOnce(Texts<'_>, Arc<Metrics>) -> Result<Arc<dyn SpeechService>, String>,
    ) -> anyhow::Result<Arc<Phone>> {
        file.validate()?;
        let metrics = Arc::new(Metrics::default());
        let mut connectors = HashMap::new();
        let mut prompts = Vec::new();
        let mut openings = Vec::new();
        for (name, c) in &file.connectors {
            let engine = match &c.agent {
                Some(p) => crate::cli::load_engine(p, None)?,
                None => app.engine.clone(),
            };
            let mut languages = vec![(engine.agent.language.clone(), engine.clone())];
            if let Some(p) = &c.agent {
                let all = sb_nlu::import::languages(p)
                    .with_context(|| format!("cannot read the languages of {}", p.display()))?;
                for l in all.into_iter().skip(1) {
                    let e = crate::cli::load_engine_in(p, None, Some(&l))?;
                    languages.push((l, e));
                }
            }
            for (_, e) in &languages {
                prompts.extend(static_prompts(e));
                openings.extend(dynamic_openings(e));
            }
            let (status_callback_method, action_method) = c.methods();
            let callbacks = Callbacks::new(CallbackConfig {
                status_callback: c.status_callback.clone(),
                status_callback_method,
                action: c.action.clone(),
                action_method,
                analytics: c.analytics.clone(),
                auth_token: c.twilio.auth_token.clone(),
                ..CallbackConfig::default()
            });
            let vonage = match (&c.vonage.application_id, &c.vonage.private_key) {
                (Some(id), Some(path)) => Some((
                    id.clone(),
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                )),
                _ => None,
            };
            let mut hc = HandoffConfig {
                twilio: match (&c.twilio.account_sid, &c.twilio.auth_token) {
                    (Some(sid), Some(tok)) => Some(sb_transport::TwilioCredentials {
                        account_sid: sid.clone(),
                        auth_token: tok.clone(),
                    }),
                    _ => None,
                },
                vonage,
                action_url: c.action.clone(),
                end_of_interaction_url: c.end_of_interaction_url.clone(),
                transfer_number: c.vonage.transfer_number.clone(),
                transfer_from: c.vonage.transfer_from.clone(),
                transfer_text: c.vonage.transfer_text.clone(),
                ..HandoffConfig::default()
            };
            if let Some(b) = &c.twilio.api_base {
                hc.twilio_api_base = b.clone();
            }
            if let Some(b) = &c.vonage.api_base {
                hc.vonage_api_base = b.clone();
            }
            connectors.insert(
                name.clone(),
                Arc::new(ConnectorRt {
                    name: name.clone(),
                    cfg: c.clone(),
                    engine,
                    languages,
                    callbacks,
                    handoff: Handoff::new(hc),
                }),
            );
        }
        prompts.sort();
        prompts.dedup();
        let l = &file.phone;
        let texts = Texts {
            prompts: &prompts,
            openings: &openings,
        };
        let speech = speech(texts, metrics.clone()).map_err(anyhow::Error::msg)?;
        let calls = CallStore::new(app.store.clone(), app.clock.clone());
        let paused = PausedSessions::new(
            app.store.clone(),
            Duration::from_secs(file.phone.paused_ttl_s),
        );
        tracing::info!(
            connectors = connectors.len(),
            prompts = speech.prompt_count(),
            "phone path ready"
        );
        let phone = Arc::new(Phone {
            slots: Arc::new(Semaphore::new(l.max_calls)),
            admission: super::admission::Admission::new(l.max_pending_streams),
            connectors,
            speech,
            choices: Arc::new(choices),
            calls,
            metrics,
            paused,
            sentiment: app.sentiment.clone(),
            webhook: app.webhook.clone(),
            shutdown: watch::channel(false).0,
            next_key: AtomicU64::new(1),
            live: AtomicUsize::new(0),
            idle: Notify::new(),
            endings: super::action::Endings::default(),
            handed_off: std::sync::Mutex::new(std::collections::VecDeque::new()),
            clips: super::clips::Clips::default(),
            clock: app.clock.clone(),
            console: crate::web::phone_feed::PhoneFeed::start(app.web.hub.clone()),
            file,
        });
        if app.phone.set(phone.clone()).is_err() {
            anyhow::bail!("the phone path is already attached to this server");
        }
        Ok(phone)
    }

    pub fn connector(&self, name: &str) -> Option<Arc<ConnectorRt>> {
        let (name, _) = self.file.connector(name)?;
        self.connectors.get(name).cloned()
    }

    /// A key for one call's speech queues.
    pub fn next_key(&self) -> u64 {
        self.next_key.fetch_add(1, Ordering::Relaxed)
    }

    /// Remembers the NCCO that continues a handed-off Vonage call.
    pub fn remember_handoff(&self, call_id: &str, ncco: serde_json::Value) {
        if let Ok(mut q) = self.handed_off.lock() {
            if q.len() >= MAX_HANDED_OFF {
                q.pop_front();
            }
            q.push_back((call_id.to_string(), ncco));
        }
    }

    /// The NCCO for a `disconnected` event of `ids` (call or conversation uuid), once.
    pub fn take_handoff(&self, ids: &[&str]) -> Option<serde_json::Value> {
        let mut q = self.handed_off.lock().ok()?;
        let i = q.iter().position(|(id, _)| ids.contains(&id.as_str()))?;
        q.remove(i).map(|(_, v)| v)
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Calls being served now (media socket upgraded, not yet ended).
    pub fn live_calls(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    pub(crate) fn call_began(&self) {
        self.live.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn call_done(&self) {
        if self.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Asks every call to end and waits (up to `grace`) until they have.
    pub async fn drain(&self, grace: Duration) {
        let _ = self.shutdown.send(true);
        let wait = async {
            loop {
                let notified = self.idle.notified();
                if self.live.load(Ordering::SeqCst) == 0 {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(grace, wait).await;
        for c in self.connectors.values() {
            let _ = tokio::time::timeout(grace, c.callbacks.flush()).await;
        }
        self.speech.close();
    }
}

/// Reads `config` (or uses one `default` connector), loads the speech models and attaches the
/// phone path to `app`.
pub async fn enable(
    app: &Arc<AppState>,
    config: Option<&std::path::Path>,
) -> anyhow::Result<Arc<Phone>> {
    let file = match config {
        Some(p) => PhoneFile::load(p)?,
        None => PhoneFile::with_default_connector(),
    };
    enable_with(app, file).await
}

/// [`enable`] with the settings file already read.
pub async fn enable_with(app: &Arc<AppState>, file: PhoneFile) -> anyhow::Result<Arc<Phone>> {
    file.validate()?;
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let c = file
            .connector("")
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        let tz = c
            .time_zone
            .clone()
            .or_else(|| Some(app.engine.agent.time_zone.clone()));
        let (asr, tts) = load_models(
            file.phone.asr_threads,
            &c.language,
            tz,
            file.phone.tts_cache_mb,
        )?;
        let store = ModelStore::from_env();
        let choices = SpeechChoices::load(&file.phone, &store.layout(), &store.root.join("cache"))?;
        Phone::start_choosing(&app, file, asr, tts, choices)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::with_references_filled as fill;

    #[test]
    fn dynamic_texts_get_plain_words_for_their_references() {
        assert_eq!(
            fill("Table booked for $person at $time on #booking.date.").as_deref(),
            Some("Table booked for that at that on that.")
        );
        assert_eq!(fill("Okay $name, done."), None); // no static opening
        assert_eq!(fill("No references here."), None);
    }
}
