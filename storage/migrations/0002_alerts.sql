-- Escalation policies, alerts, their timelines and pages.

CREATE TABLE policies (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    repeat          INTEGER NOT NULL DEFAULT 1 CHECK (repeat >= 0),
    ack_timeout_s   INTEGER NOT NULL DEFAULT 1800 CHECK (ack_timeout_s > 0),
    is_default      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE policy_steps (
    policy_id   INTEGER NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,                -- 0-based order
    delay_s     INTEGER NOT NULL CHECK (delay_s > 0),
    targets     TEXT NOT NULL,                   -- JSON: [{"kind": "all_responders"}, {"kind": "person", "id": 3}]
    PRIMARY KEY (policy_id, position)
);

-- The default policy: all responders, then all coordinators, five minutes each, once more.
INSERT INTO policies (id, name, repeat, ack_timeout_s, is_default) VALUES (1, 'default', 1, 1800, 1);
INSERT INTO policy_steps (policy_id, position, delay_s, targets) VALUES
    (1, 0, 300, '[{"kind": "all_responders"}]'),
    (1, 1, 300, '[{"kind": "all_coordinators"}]');

CREATE TABLE alerts (
    id                  INTEGER PRIMARY KEY,
    contact_id          INTEGER REFERENCES people(id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (kind IN ('panic', 'duress', 'missed_checkin', 'drill')),
    state               TEXT NOT NULL CHECK (state IN ('triggered', 'acknowledged', 'resolved')),
    policy_id           INTEGER NOT NULL REFERENCES policies(id),
    body_enc            BLOB,                    -- the first message's text
    location_enc        BLOB,                    -- JSON: the last known location
    created_at          TEXT NOT NULL,
    step                INTEGER NOT NULL,        -- the step paged last (0-based)
    pass                INTEGER NOT NULL,        -- 0 = first pass, 1.. = repeats
    step_started_at     TEXT NOT NULL,
    next_escalation_at  TEXT,                    -- NULL: nothing scheduled
    unanswered          INTEGER NOT NULL DEFAULT 0,
    ack_by              INTEGER REFERENCES people(id) ON DELETE SET NULL,
    ack_at              TEXT,
    ack_deadline_at     TEXT,
    ack_reminded        INTEGER NOT NULL DEFAULT 0,
    resolved_by         INTEGER REFERENCES people(id) ON DELETE SET NULL,
    resolved_at         TEXT,
    resolution_enc      BLOB
);
CREATE INDEX alerts_escalation_due ON alerts (state, next_escalation_at);
CREATE INDEX alerts_ack_due ON alerts (state, ack_deadline_at);
CREATE INDEX alerts_contact ON alerts (contact_id, state);

CREATE TABLE alert_events (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    INTEGER,                         -- a person id; no FK: the timeline outlives people
    detail_enc  BLOB                             -- JSON: names, texts, reasons
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

CREATE TABLE alert_pages (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    person_id   INTEGER REFERENCES people(id) ON DELETE CASCADE,  -- NULL: a group chat (0003)
    pass        INTEGER NOT NULL,
    step        INTEGER NOT NULL,                -- -1: a reminder or an UNANSWERED page
    outbox_id   INTEGER REFERENCES outbox(id) ON DELETE SET NULL,
    paged_at    TEXT NOT NULL,
    delivery    TEXT NOT NULL DEFAULT 'pending' CHECK (delivery IN ('pending', 'delivered', 'failed'))
);
CREATE INDEX alert_pages_alert ON alert_pages (alert_id);
CREATE INDEX alert_pages_outbox ON alert_pages (outbox_id);


-- A person whose last page failed for good (blocked the bot, left): skipped when paging,
-- reachable again the moment they write to the bot.
ALTER TABLE people ADD COLUMN unreachable_at TEXT;
