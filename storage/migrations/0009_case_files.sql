-- Case files (bot/domain/casefile.py): one row per contact whose case file was ever
-- filled in. Everything in it (names, documents, addresses, the risk, proceedings, the
-- trusted person, the lawyer, notes) is one encrypted JSON value; removing the contact
-- deletes the row with them.

CREATE TABLE case_files (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL UNIQUE REFERENCES people(id) ON DELETE CASCADE,
    data_enc    BLOB NOT NULL,            -- JSON: the filled-in fields only
    version     INTEGER NOT NULL DEFAULT 0,   -- raised by every save: a stale preview is refused
    updated_at  TEXT NOT NULL
);
