// The detectIntent parser of sb-server (`crates/server/src/api/detect.rs`), compiled in at the
// crate root with shims of the three server items it uses. sb-server itself links whisper.cpp
// and the whole server stack. Keep the shims in step with the server.

#[path = "../../../crates/server/src/api/detect.rs"]
#[allow(dead_code)]
mod detect;

/// Shim of `crates/server/src/api/error.rs` (without axum).
mod error {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ApiError {
        pub status: &'static str,
        pub message: String,
    }
    impl ApiError {
        pub fn invalid(message: impl Into<String>) -> Self {
            ApiError {
                status: "INVALID_ARGUMENT",
                message: message.into(),
            }
        }
        pub fn not_found(message: impl Into<String>) -> Self {
            ApiError {
                status: "NOT_FOUND",
                message: message.into(),
            }
        }
    }
}

/// Shim of `crates/server/src/config.rs`: the limits `detect.rs` reads.
mod config {
    pub const MAX_QUERY_CHARS: usize = 256;
    pub const MAX_SESSION_ID_CHARS: usize = 512;
}

/// Shim of `crates/server/src/turn.rs`: the turn input `detect.rs` builds.
mod turn {
    #[derive(Debug)]
    #[allow(dead_code)]
    pub struct TurnInput {
        pub session: String,
        pub input: sb_nlu::dialog::QueryInput,
        pub params: sb_nlu::dialog::QueryParams,
        pub analyze_sentiment: bool,
        pub source: String,
    }
}
