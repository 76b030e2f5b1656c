//! The Dialogflow-ES-compatible HTTP API.

pub mod detect;
pub mod error;
pub mod v1;

use crate::config::{MAX_BODY_BYTES, MAX_SESSION_ID_CHARS};
use crate::state::AppState;
use crate::turn::detect_intent;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use error::ApiError;
use std::sync::Arc;

/// Longest accepted project, environment or user id.
const MAX_ID_CHARS: usize = 256;

pub fn router(state: Arc<AppState>) -> Router {
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/v2/projects/{project}/agent/sessions/{*rest}",
            post(detect_session),
        )
        .route(
            "/v2/projects/{project}/agent/environments/{env}/users/{user}/sessions/{*rest}",
            post(detect_env_session),
        )
        .route("/v1/query", post(v1_query))
        .merge(crate::phone::routes::routes())
        .merge(crate::web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.guard.clone(),
            crate::guard::check,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http());
    // Outermost, so a browser's preflight is answered before keys are asked for.
    let router = match cors(&state.config.server.cors_origins) {
        Some(c) => router.layer(c),
        None => router,
    };
    router.with_state(state)
}

/// CORS for the configured origins only (none: no CORS headers at all).
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method};
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if list.is_empty() {
        return None;
    }
    Some(
        tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::AllowOrigin::list(list))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-goog-api-key"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "The requested URL {} was not found on this server.",
        uri.path()
    ))
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

fn path_error(e: PathRejection) -> ApiError {
    ApiError::invalid(format!("Invalid request path: {}", e.body_text()))
}

async fn detect_session(
    State(app): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Path((project, rest)) = path.map_err(path_error)?;
    detect::check_segment("project", &project, MAX_ID_CHARS)?;
    let id = detect::parse_session_tail(&rest)?;
    detect(app, format!("projects/{project}/agent/sessions/{id}"), body).await
}

async fn detect_env_session(
    State(app): State<Arc<AppState>>,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Path((project, env, user, rest)) = path.map_err(path_error)?;
    detect::check_segment("project", &project, MAX_ID_CHARS)?;
    detect::check_segment("environment", &env, MAX_ID_CHARS)?;
    detect::check_segment("user", &user, MAX_ID_CHARS)?;
    let id = detect::parse_session_tail(&rest)?;
    debug_assert!(id.chars().count() <= MAX_SESSION_ID_CHARS);
    detect(
        app,
        format!("projects/{project}/agent/environments/{env}/users/{user}/sessions/{id}"),
        body,
    )
    .await
}

async fn detect(
    app: Arc<AppState>,
    session: String,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let _permit = app
        .inflight
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::exhausted("Too many requests in flight; retry later."))?;
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(MAX_BODY_BYTES)
        } else {
            ApiError::invalid(format!("Cannot read request body: {}", e.body_text()))
        }
    })?;
    let input = detect::parse_body(&bytes, session, &app.engine.agent.language)?;
    let out = detect_intent(&app, input).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        out.response_json,
    )
        .into_response())
}

async fn v1_query(
    State(app): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let reply = match app.inflight.clone().try_acquire_owned() {
        Err(_) => Err(ApiError::exhausted(
            "Too many requests in flight; retry later.",
        )),
        Ok(permit) => match body {
            Ok(bytes) => Ok((permit, bytes)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::too_large(MAX_BODY_BYTES))
            }
            Err(e) => Err(ApiError::invalid(format!(
                "Cannot read request body: {}",
                e.body_text()
            ))),
        },
    };
    let reply = match reply {
        Ok((_permit, bytes)) => v1::query(&app, &bytes).await,
        Err(e) => v1::V1Reply {
            http: e.http.as_u16(),
            body: v1::error_body(&app, &e),
        },
    };
    let status = StatusCode::from_u16(reply.http).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(reply.body)).into_response()
}
