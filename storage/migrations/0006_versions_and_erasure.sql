-- A version per rotation and policy, raised by every change to it (its steps, its people,
-- its overrides): a preview remembers the version it was made from, and Confirm applies
-- it only to that version, so a stale preview never writes over a change made since.
ALTER TABLE policies ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rotations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- What /remove must find in the outbox. `about_id`: the person a queued message is about
-- (a page or relay of a contact's alert, a notice naming a responder), whoever it goes
-- to; no foreign key, since the row must outlive the person just long enough to be
-- erased. `erase_done`: delete the row as soon as it is finished, instead of keeping it
-- for the 48-hour purge (the deletions of a removed person's messages in their chat,
-- which need that chat's id until they are done).
ALTER TABLE outbox ADD COLUMN about_id INTEGER;
ALTER TABLE outbox ADD COLUMN erase_done INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_about ON outbox (about_id);
CREATE INDEX outbox_person ON outbox (person_id);
