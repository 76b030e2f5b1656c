//! Web chat for customers (`/chat`, `/widget.js`) and the human agents' console (`/console`):
//! live conversations with what the bot understood per turn, the queue of handed-off
//! conversations, take-over and resolve, history and export, and "call" (customer and agent
//! phoned into one conference). Pages and scripts are embedded in the binary.

pub mod auth;
pub mod callbacks;
pub mod console;
pub mod customer;
pub mod dial;
pub mod hub;
pub mod model;
pub mod phone_feed;
pub mod rich;
pub mod sse;
pub mod store;
pub mod users_cli;

use crate::api::error::ApiError;
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use std::sync::{Arc, OnceLock};
use store::{ConversationStore, UserStore};

/// Most live conversations (chat and phone) at once.
pub const MAX_LIVE: usize = 10_000;

pub struct Web {
    pub hub: Arc<hub::Hub>,
    pub auth: auth::Auth,
    pub users: Arc<dyn UserStore>,
    /// Places calls on "call"; unset when `[console]` is not configured.
    pub dialer: OnceLock<dial::Dialer>,
    /// Session cookies without `Secure` (plain-HTTP deployments; `serve --console-insecure-cookies`).
    pub insecure_cookies: std::sync::atomic::AtomicBool,
    /// Turns true at shutdown: event streams end so connections can drain.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Web {
    /// Conversations and users in the server's one store. Users of an older server's
    /// `<data-dir>/console-users.json` are taken into it (the file is left as it is).
    pub async fn new(
        config: &ServerConfig,
        clock: Arc<dyn Clock>,
        store: crate::store::Store,
    ) -> Web {
        if let Some(d) = &config.data_dir {
            users_cli::import_file_users(d, &store).await;
        }
        let users: Arc<dyn UserStore> = Arc::new(store.clone());
        let conversations: Arc<dyn ConversationStore> = Arc::new(store);
        Web {
            hub: Arc::new(hub::Hub::new(conversations, clock, MAX_LIVE)),
            auth: auth::Auth::new(chrono::Duration::hours(8), chrono::Duration::hours(24)),
            users,
            dialer: OnceLock::new(),
            insecure_cookies: std::sync::atomic::AtomicBool::new(false),
            closing: tokio::sync::watch::channel(false).0,
        }
    }

    /// Ends the event streams (called when the server starts shutting down).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn insecure_cookies(&self) -> bool {
        self.insecure_cookies
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `serve`'s settings: the dialer from `[console]` of the config file, the cookie flag.
    pub fn configure(
        &self,
        config_file: Option<&std::path::Path>,
        insecure_cookies: bool,
    ) -> Result<(), dial::DialError> {
        self.insecure_cookies
            .store(insecure_cookies, std::sync::atomic::Ordering::Relaxed);
        if let Some(path) = config_file {
            let token = std::env::var("TWILIO_AUTH_TOKEN").ok();
            if let Some(d) = dial::Dialer::from_file(path, token)? {
                tracing::info!(provider = d.provider_name(), "console calls enabled");
                let _ = self.dialer.set(d);
            }
        }
        Ok(())
    }

    /// Ends idle chats and expired agent sessions.
    pub async fn sweep(&self, now: chrono::DateTime<chrono::Utc>, chat_ttl: std::time::Duration) {
        let ttl = chrono::Duration::from_std(chat_ttl).unwrap_or(chrono::Duration::minutes(30));
        let ended = self.hub.sweep(now - ttl).await;
        let expired = self.auth.sweep(now);
        if ended > 0 || expired > 0 {
            tracing::info!(chats = ended, agent_sessions = expired, "web sweep");
        }
    }
}

pub fn err(http: StatusCode, status: &'static str, message: &str) -> ApiError {
    ApiError {
        http,
        status,
        message: message.to_string(),
    }
}

/// Escapes text for HTML element content and quoted attributes.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The web chat's and the console's routes.
pub fn routes() -> Router<Arc<AppState>> {
    let chat_api = Router::new()
        .route(
            "/chat/api/start",
            post(customer::start).options(customer::preflight),
        )
        .route(
            "/chat/api/history",
            post(customer::history).options(customer::preflight),
        )
        .route(
            "/chat/api/say",
            post(customer::say).options(customer::preflight),
        )
        .route(
            "/chat/api/person",
            post(customer::person).options(customer::preflight),
        )
        .route("/chat/api/events", get(customer::events))
        .layer(axum::middleware::map_response(customer::cors));
    let console_api = Router::new()
        .route("/console/api/state", get(console::state))
        .route("/console/api/events", get(console::events))
        .route("/console/api/history", get(console::history))
        .route(
            "/console/api/conversations/{id}",
            get(console::conversation),
        )
        .route(
            "/console/api/conversations/{id}/export",
            get(console::export),
        )
        .route("/console/api/conversations/{id}/take", post(console::take))
        .route(
            "/console/api/conversations/{id}/handback",
            post(console::hand_back),
        )
        .route(
            "/console/api/conversations/{id}/reply",
            post(console::reply),
        )
        .route(
            "/console/api/conversations/{id}/resolve",
            post(console::resolve),
        )
        .route("/console/api/conversations/{id}/call", post(console::call));
    Router::new()
        .route("/chat", get(customer::page))
        .route("/widget.js", get(customer::widget))
        .route("/console", get(console::console_page))
        .route(
            "/console/login",
            get(console::login_page).post(console::login),
        )
        .route("/console/logout", post(console::logout))
        .route("/console/console.js", get(console::asset_js))
        .route("/console/console.css", get(console::asset_css))
        .route(
            "/console/twilio/status/{id}",
            post(callbacks::twilio_status),
        )
        .route("/console/vonage/event/{id}", post(callbacks::vonage_event))
        .merge(chat_api)
        .merge(console_api)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::html_escape(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }
}
