//! One detect-intent turn end to end: session lock, load (cache or store), engine + webhooks, persist.
//! Shared by the HTTP API and the `chat` command.

use crate::api::error::ApiError;
use crate::state::AppState;
use crate::store::{StoreError, StoredSession, TurnRecord};
use sb_nlu::dialog::{QueryInput, QueryParams, TurnRequest, TurnResult, TurnStep};

/// A validated query for one session.
#[derive(Debug, Clone)]
pub struct TurnInput {
    /// Full DF session path (`projects/P/agent/sessions/S`); also the storage key.
    pub session: String,
    pub input: QueryInput,
    pub params: QueryParams,
    /// `sentimentAnalysisRequestConfig.analyzeQueryTextSentiment`.
    pub analyze_sentiment: bool,
    /// `originalDetectIntentRequest.source`.
    pub source: String,
}

/// What a turn produced: the engine's result and the serialised DF `DetectIntentResponse`.
#[derive(Debug, Clone)]
pub struct TurnOutput {
    pub result: TurnResult,
    pub response_json: String,
}

/// Most webhook round trips per turn (the engine bounds follow-up events too; this is a backstop).
const MAX_WEBHOOK_CALLS: usize = 8;

pub async fn detect_intent(app: &AppState, input: TurnInput) -> Result<TurnOutput, ApiError> {
    let now = app.clock.now();
    let slot = app
        .sessions
        .slot(&input.session, now)
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let mut guard = slot.lock().await;
    // On a shared store another node may have served this session since: read it through.
    if !guard.loaded || app.store.shared() {
        guard.cached = app.store.load(&input.session).await.map_err(|e| {
            tracing::error!(error = %e, "loading session failed");
            ApiError::internal()
        })?;
        guard.loaded = true;
    }
    let now = app.clock.now();
    let version = guard.cached.as_ref().map_or(0, |c| c.version) + 1;
    let (mut state, created_at) = match &guard.cached {
        Some(c) if c.expires_at > now => (c.state.clone(), c.created_at),
        _ => (Default::default(), now),
    };

    let (query, event) = match &input.input {
        QueryInput::Text { text, .. } => (Some(text.clone()), None),
        QueryInput::Event { name, .. } => (None, Some(name.clone())),
    };
    let sentiment = match (&query, &app.sentiment) {
        (Some(text), Some(f))
            if input.analyze_sentiment || app.engine.agent.analyze_query_text_sentiment =>
        {
            Some(crate::sentiment::analyze(f, text))
        }
        _ => None,
    };
    let request = TurnRequest {
        session: input.session.clone(),
        input: input.input,
        params: input.params,
        now,
        sentiment,
        speech_confidence: None,
        source: input.source,
    };

    let mut step = app.engine.begin(&mut state, request);
    let mut calls = 0;
    let result = loop {
        match step {
            TurnStep::Done(r) => break r,
            TurnStep::Webhook(pending) => {
                calls += 1;
                let outcome = if calls > MAX_WEBHOOK_CALLS {
                    sb_nlu::webhook::WebhookFailure::Internal("too many webhook calls in one turn")
                        .outcome(pending.webhook.format)
                } else {
                    app.webhook.call(&pending).await
                };
                step = app.engine.resume(&mut state, *pending, outcome);
            }
        }
    };

    let response = result.to_detect_intent_response();
    let response_json = serde_json::to_string(&response).map_err(|_| ApiError::internal())?;
    let updated_at = app.clock.now();
    let ttl =
        chrono::Duration::from_std(app.config.session_ttl).map_err(|_| ApiError::internal())?;
    let stored = StoredSession {
        state,
        created_at,
        updated_at,
        expires_at: updated_at + ttl,
        version,
    };
    let record = TurnRecord {
        session_id: input.session.clone(),
        at: updated_at,
        query,
        event,
        intent: result.intent_name.clone(),
        confidence: result.confidence,
        parameters: serde_json::Value::Object(result.parameters.clone()).to_string(),
        reply: result.reply_text.clone(),
        webhook_status: result.webhook_status.as_ref().map(|v| v.to_string()),
        response: response_json.clone(),
    };
    app.store
        .save_turn(&stored, &input.session, record)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::aborted(
                "The session was changed by a concurrent request; retry the request.",
            ),
            StoreError::Closed => ApiError::unavailable("The service is shutting down."),
            e => {
                tracing::error!(error = %e, "persisting turn failed");
                ApiError::unavailable("The session could not be saved; retry the request.")
            }
        })?;
    guard.cached = Some(stored);
    Ok(TurnOutput {
        result,
        response_json,
    })
}
