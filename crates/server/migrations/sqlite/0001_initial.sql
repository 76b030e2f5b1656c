-- The schema as the separate stores of earlier versions created it. `IF NOT EXISTS` adopts a
-- database written by them; a `calls` table from before its `hangup` column gets the column from
-- the store before migrations run (SQLite has no `ADD COLUMN IF NOT EXISTS`).

CREATE TABLE IF NOT EXISTS sessions(
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions(expires_at);

CREATE TABLE IF NOT EXISTS turns(
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    query TEXT,
    event TEXT,
    intent TEXT,
    confidence REAL,
    parameters TEXT,
    reply TEXT,
    webhook_status TEXT,
    response TEXT
);
CREATE INDEX IF NOT EXISTS turns_session ON turns(session_id, id);

CREATE TABLE IF NOT EXISTS calls(
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
CREATE INDEX IF NOT EXISTS calls_started ON calls(started_at);

CREATE TABLE IF NOT EXISTS call_turns(
    call_id TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    at TEXT NOT NULL,
    input_kind TEXT NOT NULL,
    caller_text TEXT NOT NULL,
    asr_confidence REAL,
    intent TEXT,
    intent_confidence REAL NOT NULL,
    parameters TEXT NOT NULL,
    bot_text TEXT NOT NULL,
    sentiment_score REAL,
    sentiment_magnitude REAL,
    timings TEXT NOT NULL,
    interrupted INTEGER NOT NULL,
    PRIMARY KEY (call_id, stream_id, turn)
);

CREATE TABLE IF NOT EXISTS paused_sessions(
    end_user_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    transcript TEXT NOT NULL,
    paused_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS paused_sessions_expires_at ON paused_sessions(expires_at);
