//! The human agents' console: sign-in pages, the console page, and its JSON/SSE API.
//!
//! Sessions are random tokens in an HttpOnly, SameSite=Strict cookie (Secure unless the server is
//! told it runs on plain HTTP). Every change needs the session's CSRF token (`X-CSRF-Token` or the
//! form's `csrf` field) and, when the browser sends one, an `Origin` matching the `Host`. The
//! sign-in form uses a double-submit cookie.

use super::auth::{self, AgentSession, LOGIN_COOKIE, SESSION_COOKIE};
use super::model::{Search, Status, Who, MAX_SEARCH};
use super::{err, html_escape, sse};
use crate::api::error::ApiError;
use crate::state::AppState;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};

const LOGIN_HTML: &str = include_str!("assets/login.html");
const CONSOLE_HTML: &str = include_str!("assets/console.html");
const CONSOLE_JS: &str = include_str!("assets/console.js");
const CONSOLE_CSS: &str = include_str!("assets/console.css");
/// Longest agent reply (characters).
pub const MAX_REPLY_CHARS: usize = 2_000;

const CSP: &str = "default-src 'self'; img-src 'self' https: data:; style-src 'self'; \
script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn page(html: String, cookies: &[String]) -> Response {
    let mut res = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not `no-referrer`: with it, browsers send `Origin: null` on form posts, which the
    // same-origin check refuses.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    res
}

fn redirect(to: &str, cookies: &[String]) -> Response {
    let mut res = Redirect::to(to).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

pub async fn asset_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        CONSOLE_JS,
    )
        .into_response()
}

pub async fn asset_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        CONSOLE_CSS,
    )
        .into_response()
}

/// The signed-in agent of a request, if any (with the session token).
fn session(app: &AppState, headers: &HeaderMap) -> Option<(String, AgentSession)> {
    let token = auth::cookie(headers, SESSION_COOKIE)?;
    let s = app.web.auth.session(token, app.clock.now())?;
    Some((token.to_string(), s))
}

/// When the browser names the page's origin, it must be this server (CSRF defence in depth).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

fn unauthenticated() -> ApiError {
    err(
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "Sign in to the console first.",
    )
}

fn forbidden(msg: &str) -> ApiError {
    err(StatusCode::FORBIDDEN, "PERMISSION_DENIED", msg)
}

/// The agent of an API read.
fn reader(app: &AppState, headers: &HeaderMap) -> Result<AgentSession, ApiError> {
    session(app, headers)
        .map(|(_, s)| s)
        .ok_or_else(unauthenticated)
}

/// The agent of an API change: signed in, same origin, with the session's CSRF token.
fn writer(app: &AppState, headers: &HeaderMap) -> Result<AgentSession, ApiError> {
    let s = reader(app, headers)?;
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !same_origin(headers) || !auth::same(token, &s.csrf) {
        return Err(forbidden("Missing or wrong CSRF token."));
    }
    Ok(s)
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    error: Option<String>,
}

pub async fn login_page(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    q: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if session(&app, &headers).is_some() {
        return redirect("/console", &[]);
    }
    let csrf = auth::random_token();
    let error = match q.ok().and_then(|Query(q)| q.error).as_deref() {
        Some("throttled") => "Too many failed sign-ins for this name; try again in 15 minutes.",
        Some("expired") => {
            "The sign-in form expired, or the browser refused its cookie (a console served over \
             plain HTTP on another host than localhost needs `serve --console-insecure-cookies`). \
             Please try again."
        }
        Some(_) => "Wrong name or password.",
        None => "",
    };
    let html = LOGIN_HTML
        .replace("{{csrf}}", &csrf)
        .replace("{{error}}", &html_escape(error))
        .replace(
            "{{error_hidden}}",
            if error.is_empty() { "hidden" } else { "" },
        );
    let insecure = app.web.insecure_cookies();
    page(
        html,
        &[auth::set_cookie(LOGIN_COOKIE, &csrf, 3_600, insecure)],
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// A precomputed hash checked for unknown names, so both cases cost one argon2 verification.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| auth::hash_password("no such user, no such password").unwrap_or_default())
}

pub async fn login(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return redirect("/console/login?error=1", &[]);
    };
    let cookie_csrf = auth::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !same_origin(&headers) || cookie_csrf.is_empty() || !auth::same(cookie_csrf, &f.csrf) {
        return redirect("/console/login?error=expired", &[]);
    }
    let now = app.clock.now();
    let name = f.name.trim().to_string();
    if auth::check_name(&name).is_err() || f.password.chars().count() > auth::MAX_PASSWORD_CHARS {
        return redirect("/console/login?error=1", &[]);
    }
    if app.web.auth.throttled(&name, now) {
        return redirect("/console/login?error=throttled", &[]);
    }
    let Ok(_permit) = app.web.auth.hashing.acquire().await else {
        return redirect("/console/login?error=1", &[]);
    };
    let user = match app.web.users.user(&name).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "console: reading users failed");
            None
        }
    };
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let password = f.password;
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    let insecure = app.web.insecure_cookies();
    match user {
        Some(u) if ok => {
            app.web.auth.succeeded(&name);
            let token = app.web.auth.start(&u.name, u.admin, u.phone.clone(), now);
            tracing::info!(user = %u.name, "console sign-in");
            let max_age = app.web.auth.max_age.num_seconds();
            redirect(
                "/console",
                &[
                    auth::set_cookie(SESSION_COOKIE, &token, max_age, insecure),
                    auth::set_cookie(LOGIN_COOKIE, "", 0, insecure),
                ],
            )
        }
        _ => {
            app.web.auth.failed(&name, now);
            tracing::warn!("console: failed sign-in");
            redirect("/console/login?error=1", &[])
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let insecure = app.web.insecure_cookies();
    if let (Some((token, s)), Ok(Form(f))) = (session(&app, &headers), form) {
        if same_origin(&headers) && auth::same(&f.csrf, &s.csrf) {
            app.web.auth.end(&token);
        }
    }
    redirect(
        "/console/login",
        &[auth::set_cookie(SESSION_COOKIE, "", 0, insecure)],
    )
}

pub async fn console_page(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some((_, s)) = session(&app, &headers) else {
        return redirect("/console/login", &[]);
    };
    let html = CONSOLE_HTML
        .replace("{{csrf}}", &html_escape(&s.csrf))
        .replace("{{user}}", &html_escape(&s.user));
    page(html, &[])
}

/// Live conversations (queue oldest first), the agent, and whether calls can be placed.
pub async fn state(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let s = reader(&app, &headers)?;
    let (queue, live) = app.web.hub.overview().await;
    let dial = app.web.dialer.get().map(|d| d.provider_name());
    Ok(Json(json!({
        "user": s.user,
        "admin": s.admin,
        "queue": queue,
        "live": live,
        "dial": dial,
    })))
}

pub async fn events(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((token, _)) = session(&app, &headers) else {
        return Err(unauthenticated());
    };
    let rx = app.web.hub.subscribe();
    let lag_app = app.clone();
    let alive_app = app.clone();
    let stream = sse::stream(
        rx,
        app.web.closing(),
        Some(Box::new(move |n| lag_app.web.hub.note_lag(n))),
        Some(Box::new(move || {
            alive_app.web.auth.valid(&token, alive_app.clock.now())
        })),
    );
    Ok(stream.into_response())
}

pub async fn conversation(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    reader(&app, &headers)?;
    let c = find(&app, &id).await?;
    Ok(Json(json!(c)))
}

async fn find(app: &AppState, id: &str) -> Result<super::model::Conversation, ApiError> {
    if id.len() > 128 {
        return Err(ApiError::not_found("No such conversation."));
    }
    app.web
        .hub
        .find(id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "console: reading a conversation failed");
            ApiError::internal()
        })?
        .ok_or_else(|| ApiError::not_found("No such conversation."))
}

pub async fn export(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    reader(&app, &headers)?;
    let c = find(&app, &id).await?;
    let body = serde_json::to_string_pretty(&c).map_err(|_| ApiError::internal())?;
    let name: String = c
        .meta
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"conversation-{name}.json\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

/// `YYYY-MM-DD` (start of day, or end of day when `end`) or an RFC 3339 instant.
fn parse_when(s: &str, end: bool) -> Result<Option<DateTime<Utc>>, ApiError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = if end {
            d.and_hms_milli_opt(23, 59, 59, 999)
        } else {
            d.and_hms_opt(0, 0, 0)
        };
        return Ok(t.map(|t| t.and_utc()));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| ApiError::invalid("Dates are YYYY-MM-DD or RFC 3339."))
}

pub async fn history(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    q: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    reader(&app, &headers)?;
    let Query(q) = q.map_err(|e| ApiError::invalid(e.body_text()))?;
    let bounded = |s: Option<String>| s.map(|s| s.chars().take(200).collect::<String>());
    let search = Search {
        from: parse_when(q.from.as_deref().unwrap_or(""), false)?,
        to: parse_when(q.to.as_deref().unwrap_or(""), true)?,
        intent: bounded(q.intent),
        text: bounded(q.text),
        limit: Some(q.limit.unwrap_or(50).min(MAX_SEARCH)),
    };
    let found = app.web.hub.store.search(&search).await.map_err(|e| {
        tracing::error!(error = %e, "console: history search failed");
        ApiError::internal()
    })?;
    Ok(Json(json!({ "conversations": found })))
}

fn live(app: &AppState, id: &str) -> Result<Arc<super::hub::Live>, ApiError> {
    app.web.hub.get(id).ok_or_else(|| {
        err(
            StatusCode::CONFLICT,
            "FAILED_PRECONDITION",
            "This conversation is no longer live.",
        )
    })
}

fn conflict(msg: &str) -> ApiError {
    err(StatusCode::CONFLICT, "FAILED_PRECONDITION", msg)
}

fn hub_error(e: super::hub::HubError) -> ApiError {
    tracing::error!(error = %e, "console: conversation update failed");
    ApiError::unavailable("The conversation could not be updated; retry.")
}

/// Take a chat over: the bot goes silent and the customer sees the agent join.
pub async fn take(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let s = writer(&app, &headers)?;
    let l = live(&app, &id)?;
    let r = app
        .web
        .hub
        .change(&l, |t| {
            match &t.conv.meta.status {
                Status::Agent { agent, .. } if *agent != s.user => {
                    return Err(format!("{agent} has this conversation."));
                }
                Status::Agent { .. } => return Ok(()),
                _ => {}
            }
            if t.conv.meta.channel != super::model::Channel::Chat {
                return Err("Only chats can be taken over here; call the customer instead.".into());
            }
            let now = t.now;
            t.set_status(Status::Agent {
                agent: s.user.clone(),
                since: now,
            });
            t.add(
                Who::System,
                None,
                format!("{} joined the chat.", s.user),
                Vec::new(),
                None,
            );
            Ok(())
        })
        .await
        .map_err(hub_error)?;
    r.map_err(|m| conflict(&m))?;
    Ok(Json(json!({"ok": true})))
}

/// Give the chat back to the bot.
pub async fn hand_back(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let s = writer(&app, &headers)?;
    let l = live(&app, &id)?;
    let r = app
        .web
        .hub
        .change(&l, |t| {
            if !matches!(&t.conv.meta.status, Status::Agent { agent, .. } if *agent == s.user) {
                return Err("You have not taken this conversation over.".to_string());
            }
            t.set_status(Status::Bot);
            t.add(
                Who::System,
                None,
                "You're back with the virtual assistant.".into(),
                Vec::new(),
                None,
            );
            Ok(())
        })
        .await
        .map_err(hub_error)?;
    r.map_err(|m| conflict(&m))?;
    Ok(Json(json!({"ok": true})))
}

#[derive(Debug, Deserialize)]
pub struct ReplyBody {
    text: String,
}

pub async fn reply(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    b: Result<Json<ReplyBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let s = writer(&app, &headers)?;
    let Json(b) =
        b.map_err(|e| ApiError::invalid(format!("Invalid request body: {}", e.body_text())))?;
    let text = super::customer::clean_text(&b.text, MAX_REPLY_CHARS)?;
    let l = live(&app, &id)?;
    let r = app
        .web
        .hub
        .change(&l, |t| {
            if !matches!(&t.conv.meta.status, Status::Agent { agent, .. } if *agent == s.user) {
                return Err("Take the conversation over before replying.".to_string());
            }
            t.add(Who::Agent, Some(s.user.clone()), text, Vec::new(), None)
                .ok_or_else(|| "This conversation is too long.".to_string())
        })
        .await
        .map_err(hub_error)?;
    let seq = r.map_err(|m| conflict(&m))?;
    Ok(Json(json!({"seq": seq})))
}

pub async fn resolve(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let s = writer(&app, &headers)?;
    let l = live(&app, &id)?;
    app.web
        .hub
        .change(&l, |t| {
            t.add(
                Who::System,
                None,
                format!("{} closed the conversation.", s.user),
                Vec::new(),
                None,
            );
            let now = t.now;
            t.set_status(Status::Resolved {
                by: s.user.clone(),
                at: now,
            });
        })
        .await
        .map_err(hub_error)?;
    Ok(Json(json!({"ok": true})))
}

/// Calls the customer and the agent into one conference (Twilio) or conversation (Vonage).
pub async fn call(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let s = writer(&app, &headers)?;
    let dialer = app
        .web
        .dialer
        .get()
        .ok_or_else(|| conflict("Placing calls is not configured on this server."))?;
    let l = live(&app, &id)?;
    let c = l.snapshot().await;
    let customer = c
        .meta
        .phone
        .clone()
        .ok_or_else(|| conflict("The customer left no phone number."))?;
    let agent_phone = s
        .phone
        .clone()
        .or_else(|| dialer.agent_phone().map(str::to_string))
        .ok_or_else(|| conflict("You have no phone number to be called on."))?;
    let placed = dialer
        .place(&c.meta.id, &customer, &agent_phone, app.clock.now())
        .await
        .map_err(|e| {
            tracing::warn!(conversation = %c.meta.id, error = %e, "console: placing the call failed");
            err(StatusCode::BAD_GATEWAY, "UNAVAILABLE", &format!("The call could not be placed: {e}"))
        })?;
    let out = json!(placed);
    let note = format!(
        "{} is placing a phone call to {}.",
        s.user,
        placed.first().map(|p| p.to.as_str()).unwrap_or("")
    );
    app.web
        .hub
        .change(&l, |t| {
            for p in placed {
                t.add_call(p);
            }
            if !matches!(&t.conv.meta.status, Status::Agent { .. }) {
                let now = t.now;
                t.set_status(Status::Agent {
                    agent: s.user.clone(),
                    since: now,
                });
            }
            t.add(Who::System, None, note, Vec::new(), None);
        })
        .await
        .map_err(hub_error)?;
    Ok(Json(json!({"calls": out})))
}
