-- Check-ins (bot/domain/checkin.py): one row per contact with a schedule, a trip, a
-- pause or PINs, and a log of what happened. Only the time the tick must next look at is
-- in the clear; the schedule, the state and its times are one encrypted JSON value.

CREATE TABLE checkins (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL UNIQUE REFERENCES people(id) ON DELETE CASCADE,
    wake_at     TEXT,                     -- NULL: nothing until the contact acts
    version     INTEGER NOT NULL DEFAULT 0,   -- claims: UPDATE ... WHERE version = ?
    alert_id    INTEGER REFERENCES alerts(id) ON DELETE SET NULL,  -- the open missed-check-in alert
    state_enc   BLOB NOT NULL,            -- JSON: schedule, state, due times, trip, pause
    secrets_enc BLOB,                     -- JSON: two PIN hashes in random order, the word's hash
    updated_at  TEXT NOT NULL
);
CREATE INDEX checkins_wake ON checkins (wake_at);

CREATE TABLE checkin_events (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,            -- checked_in, reminded, reprompted, down, wrong_pin, ...
    actor_id    INTEGER,                  -- who did it (the contact, a coordinator); NULL: the bot
    detail_enc  BLOB                      -- JSON
);
CREATE INDEX checkin_events_person ON checkin_events (person_id, id);

-- What nabat knows about an alert beyond the contact's words (a missed check-in: what
-- was due, the last check-in). JSON, encrypted.
ALTER TABLE alerts ADD COLUMN detail_enc BLOB;
