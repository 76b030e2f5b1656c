-- Same tables and columns as the SQLite schema (the store's queries are shared): times as Unix
-- milliseconds (BIGINT) or RFC 3339 text where the API returns them as text, JSON as text.

CREATE TABLE sessions(
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions(expires_at);

CREATE TABLE turns(
    id BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    query TEXT,
    event TEXT,
    intent TEXT,
    confidence DOUBLE PRECISION,
    parameters TEXT,
    reply TEXT,
    webhook_status TEXT,
    response TEXT
);
CREATE INDEX turns_session ON turns(session_id, id);

CREATE TABLE calls(
    id TEXT PRIMARY KEY,
    transport TEXT NOT NULL,
    connector TEXT NOT NULL,
    account_id TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT,
    error TEXT,
    params TEXT NOT NULL,
    hangup TEXT
);
CREATE INDEX calls_started ON calls(started_at);

CREATE TABLE call_turns(
    call_id TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    turn BIGINT NOT NULL,
    at TEXT NOT NULL,
    input_kind TEXT NOT NULL,
    caller_text TEXT NOT NULL,
    asr_confidence DOUBLE PRECISION,
    intent TEXT,
    intent_confidence DOUBLE PRECISION NOT NULL,
    parameters TEXT NOT NULL,
    bot_text TEXT NOT NULL,
    sentiment_score DOUBLE PRECISION,
    sentiment_magnitude DOUBLE PRECISION,
    timings TEXT NOT NULL,
    interrupted BOOLEAN NOT NULL,
    PRIMARY KEY (call_id, stream_id, turn)
);

CREATE TABLE paused_sessions(
    end_user_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    transcript TEXT NOT NULL,
    paused_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX paused_sessions_expires_at ON paused_sessions(expires_at);
