//! Google-style API errors: `{"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error as rendered to API clients. Messages are written for the client and never carry internals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub http: StatusCode,
    pub status: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError {
            http: StatusCode::BAD_REQUEST,
            status: "INVALID_ARGUMENT",
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            http: StatusCode::NOT_FOUND,
            status: "NOT_FOUND",
            message: message.into(),
        }
    }
    pub fn too_large(limit: usize) -> Self {
        ApiError {
            http: StatusCode::PAYLOAD_TOO_LARGE,
            status: "INVALID_ARGUMENT",
            message: format!("Request payload size exceeds the limit: {limit} bytes."),
        }
    }
    pub fn method_not_allowed() -> Self {
        ApiError {
            http: StatusCode::METHOD_NOT_ALLOWED,
            status: "UNIMPLEMENTED",
            message: "Method not allowed.".into(),
        }
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            http: StatusCode::SERVICE_UNAVAILABLE,
            status: "UNAVAILABLE",
            message: message.into(),
        }
    }
    pub fn exhausted(message: impl Into<String>) -> Self {
        ApiError {
            http: StatusCode::TOO_MANY_REQUESTS,
            status: "RESOURCE_EXHAUSTED",
            message: message.into(),
        }
    }
    /// A concurrency conflict the client resolves by retrying (gRPC `ABORTED`).
    pub fn aborted(message: impl Into<String>) -> Self {
        ApiError {
            http: StatusCode::CONFLICT,
            status: "ABORTED",
            message: message.into(),
        }
    }
    pub fn internal() -> Self {
        ApiError {
            http: StatusCode::INTERNAL_SERVER_ERROR,
            status: "INTERNAL",
            message: "Internal error.".into(),
        }
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.http.as_u16(), "message": self.message, "status": self.status}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.http, axum::Json(self.body())).into_response()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.http.as_u16(),
            self.status,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}
