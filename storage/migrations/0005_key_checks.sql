-- Which keys the data was written with: one check value per key id (0 is the blind-index
-- key). A check value is a keyed hash of a fixed label (storage/keycheck.py): it tells a
-- right key from a wrong one and reveals nothing of the key. nabat refuses to start with
-- a key ring that lacks, or differs from, a key recorded here, instead of running on keys
-- that cannot read the database and writing under them.

CREATE TABLE key_checks (
    key_id       INTEGER PRIMARY KEY,
    check_value  BLOB NOT NULL,
    recorded_at  TEXT NOT NULL
);
