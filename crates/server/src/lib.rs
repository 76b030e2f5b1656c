//! Switchboard server: the Dialogflow-ES-compatible HTTP API, session persistence, the fulfillment
//! webhook client, and the `chat`, `eval` and `bench` commands. `main.rs` only parses arguments.

pub mod api;
pub mod bench;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod eval_cli;
pub mod eval_voice;
pub mod fs_private;
pub mod gauges;
pub mod guard;
pub mod listen;
pub mod phone;
pub mod sentiment;
pub mod server;
pub mod sessions;
pub mod settings;
pub mod sim_cli;
pub mod soak;
pub mod speech_cli;
pub mod state;
pub mod store;
pub mod turn;
pub mod web;
pub mod webhook;

pub use server::run;
pub use state::AppState;
