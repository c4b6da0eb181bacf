-- People, their roles, invitations, the audit log, processed updates, strangers.
-- Columns ending in _enc hold AES-GCM values (storage/crypto.py) bound to
-- (table, column, row id); columns ending in _index hold keyed blind indexes.

CREATE TABLE people (
    id          INTEGER PRIMARY KEY,
    tg_index    BLOB NOT NULL UNIQUE,     -- HMAC of the Telegram user id
    tg_id_enc   BLOB NOT NULL,            -- the Telegram user id (= private chat id)
    name_enc    BLOB NOT NULL,            -- display name
    lang_enc    BLOB NOT NULL,            -- language for messages
    created_at  TEXT NOT NULL
);

CREATE TABLE person_roles (
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('contact', 'responder', 'coordinator')),
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
);

CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    token_index BLOB NOT NULL UNIQUE,     -- HMAC of the token; the token itself is never stored
    role        TEXT NOT NULL CHECK (role IN ('contact', 'responder', 'coordinator')),
    name_enc    BLOB,                     -- display name chosen by the coordinator, if any
    created_by  INTEGER REFERENCES people(id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    used_by     INTEGER REFERENCES people(id) ON DELETE SET NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    INTEGER,                  -- a person id, or NULL for the shell; no FK: the log outlives people
    action      TEXT NOT NULL,
    detail_enc  BLOB                      -- JSON: names and other details
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE processed_updates (
    update_id   INTEGER PRIMARY KEY,
    at          TEXT NOT NULL
);

CREATE TABLE strangers (
    tg_index        BLOB PRIMARY KEY,
    replied_at      TEXT,                 -- last neutral reply
    window_start    TEXT NOT NULL,        -- start of the current rate window
    window_count    INTEGER NOT NULL      -- updates seen in it
);

-- Durable delivery: every message, edit and deletion the bot makes is a row here,
-- written in the transaction that caused it (DESIGN.md invariant 2).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    created_at      TEXT NOT NULL,
    priority        INTEGER NOT NULL,     -- 0 first pages … 3 everything else
    op              TEXT NOT NULL CHECK (op IN ('send', 'edit', 'delete')),
    chat_index      BLOB NOT NULL,        -- HMAC of the chat id: per-chat order and pacing
    chat_enc        BLOB NOT NULL,
    payload_enc     BLOB NOT NULL,        -- JSON: catalogue key, parameters, buttons
    person_id       INTEGER REFERENCES people(id) ON DELETE CASCADE,
    ref_id          INTEGER REFERENCES outbox(id) ON DELETE CASCADE,  -- edit/delete: the message sent by that row
    dedupe_key      TEXT UNIQUE,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'expired')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      TEXT NOT NULL,
    expires_at      TEXT,
    lease_until     TEXT,
    sent_at         TEXT,
    message_id      INTEGER,              -- Telegram's id of the message this row sent
    last_error      TEXT                  -- the error class and Telegram's description, never text
);
CREATE INDEX outbox_due ON outbox (state, priority, not_before, id);
CREATE INDEX outbox_ref ON outbox (ref_id);
