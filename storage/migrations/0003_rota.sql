-- On-call rotations, overrides, swap requests, group chats, and per-person settings.

CREATE TABLE rotations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    tz          TEXT NOT NULL,                   -- IANA zone of the handoffs
    unit        TEXT NOT NULL CHECK (unit IN ('hours', 'days', 'weeks')),
    length      INTEGER NOT NULL CHECK (length >= 1),
    start_at    TEXT NOT NULL,                   -- the first handoff (UTC)
    created_at  TEXT NOT NULL
);

CREATE TABLE rotation_members (
    rotation_id INTEGER NOT NULL REFERENCES rotations(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    PRIMARY KEY (rotation_id, position),
    UNIQUE (rotation_id, person_id)
);

CREATE TABLE overrides (
    id          INTEGER PRIMARY KEY,
    rotation_id INTEGER NOT NULL REFERENCES rotations(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('add', 'remove', 'replace')),
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    replaces    INTEGER REFERENCES people(id) ON DELETE CASCADE,
    start_at    TEXT NOT NULL,
    end_at      TEXT NOT NULL,
    created_by  INTEGER,
    created_at  TEXT NOT NULL,
    CHECK (start_at < end_at),
    CHECK ((kind = 'replace') = (replaces IS NOT NULL))
);
CREATE INDEX overrides_window ON overrides (rotation_id, end_at);

CREATE TABLE swap_requests (
    id          INTEGER PRIMARY KEY,
    rotation_id INTEGER NOT NULL REFERENCES rotations(id) ON DELETE CASCADE,
    requester   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    start_at    TEXT NOT NULL,
    end_at      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('open', 'taken', 'cancelled')),
    taken_by    INTEGER REFERENCES people(id) ON DELETE SET NULL,
    override_id INTEGER REFERENCES overrides(id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
);

-- Group chats the bot was added to, usable as a policy target.
CREATE TABLE group_chats (
    id          INTEGER PRIMARY KEY,
    chat_index  BLOB NOT NULL UNIQUE,
    chat_enc    BLOB NOT NULL,
    title_enc   BLOB NOT NULL,
    added_at    TEXT NOT NULL
);

-- A page to a group chat (alert_pages.person_id is then NULL).
ALTER TABLE alert_pages ADD COLUMN group_id INTEGER REFERENCES group_chats(id) ON DELETE CASCADE;

-- Notices already sent (shift reminders, handoffs, daily gap reports), by a key that
-- names the occasion, so a restart or a second tick sends none twice.
CREATE TABLE notices_sent (
    key         TEXT PRIMARY KEY,
    sent_at     TEXT NOT NULL
);

-- A person's time zone (encrypted: it hints where they are), how long before a shift
-- they want a reminder, and a contact's escalation policy (NULL: the default).
ALTER TABLE people ADD COLUMN tz_enc BLOB;
ALTER TABLE people ADD COLUMN remind_minutes INTEGER NOT NULL DEFAULT 60;
ALTER TABLE people ADD COLUMN policy_id INTEGER REFERENCES policies(id) ON DELETE SET NULL;

-- A policy taken out of use (no longer in the rota file) that alerts still refer to.
ALTER TABLE policies ADD COLUMN retired INTEGER NOT NULL DEFAULT 0;

-- Drafts of coordinators' changes, waiting for their Confirm button (callback data can
-- carry only an id). Encrypted: a draft may name people.
CREATE TABLE drafts (
    id          INTEGER PRIMARY KEY,
    actor_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    payload_enc BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
