//! Shared server state: the trained engine, the session cache, the store, the webhook client, the clock.

use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::sessions::Sessions;
use crate::store::Store;
use crate::webhook::WebhookClient;
use anyhow::Context;
use sb_nlu::engine::Engine;
use std::sync::Arc;

/// Text sentiment analyser (`score` in [-1, 1], `magnitude` >= 0).
pub type SentimentFn = Arc<dyn sb_speech::sentiment::Sentiment>;

pub struct AppState {
    pub engine: Arc<Engine>,
    pub store: Store,
    pub sessions: Sessions,
    pub clock: Arc<dyn Clock>,
    pub webhook: WebhookClient,
    pub config: ServerConfig,
    pub sentiment: Option<SentimentFn>,
    /// Permits for in-flight detectIntent requests (`config.max_inflight`).
    pub inflight: Arc<tokio::sync::Semaphore>,
    /// The phone path (Twilio/Vonage media streams), when enabled: see [`crate::phone::Phone`].
    pub phone: std::sync::OnceLock<Arc<crate::phone::Phone>>,
    /// API keys, rate limits and their refusal counters.
    pub guard: Arc<crate::guard::Guard>,
    /// HTTP connection counters.
    pub conns: Arc<crate::listen::ConnStats>,
    /// Web chat and the agents' console.
    pub web: crate::web::Web,
}

impl AppState {
    /// Validates the configuration, opens the store (migrating it) and builds the webhook client.
    /// The sentiment analyser is the default one; the field is public to swap it.
    pub async fn new(
        engine: Arc<Engine>,
        config: ServerConfig,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<AppState> {
        config.validate().context("invalid configuration")?;
        let location = config.store_location();
        if let crate::store::Location::Dir(dir) = &location {
            crate::fs_private::prepare_data_dir(dir)?;
        }
        let clock_for_web = clock.clone();
        let store = Store::open(&location, config.store_queue).await?;
        let web = crate::web::Web::new(&config, clock_for_web, store.clone()).await;
        let webhook = WebhookClient::new(config.webhook_timeout, clock.clone())
            .context("cannot build the webhook HTTP client")?;
        Ok(AppState {
            engine,
            store,
            sessions: Sessions::new(config.max_sessions),
            clock,
            webhook,
            sentiment: crate::sentiment::default_analyzer(),
            inflight: Arc::new(tokio::sync::Semaphore::new(config.max_inflight)),
            phone: std::sync::OnceLock::new(),
            guard: Arc::new(crate::guard::Guard::new(config.api_keys.clone())),
            conns: Arc::default(),
            web,
            config,
        })
    }
}
