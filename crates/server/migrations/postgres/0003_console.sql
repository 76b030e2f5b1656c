-- The web chat's and console's records: conversations (chat and phone, as the console's history
-- shows them), their entries, and the console's users. JSON columns hold the records as the
-- server serialises them; the other columns are what history searches on.
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    meta TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_started ON conversations(started_at);
CREATE TABLE IF NOT EXISTS conversation_entries (
    conversation TEXT NOT NULL,
    seq BIGINT NOT NULL,
    text_lower TEXT NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (conversation, seq)
);
CREATE TABLE IF NOT EXISTS console_users (
    name TEXT PRIMARY KEY,
    user_json TEXT NOT NULL
);
