-- Ids are never reused. A button, a policy step's target, a `/alert N` or an audit line
-- that names a deleted row must not come to mean a new one (SQLite gives a new row the
-- highest id + 1, so deleting the newest row would hand its id to the next). `id_floor`
-- keeps, per table, the highest id ever deleted; new ids start above it and above every
-- id in use (storage/db.py, Transaction.next_id).

CREATE TABLE id_floor (
    tbl   TEXT PRIMARY KEY,
    last  INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO id_floor (tbl, last) SELECT 'people', COALESCE(MAX(id), 0) FROM people;
INSERT INTO id_floor (tbl, last) SELECT 'invitations', COALESCE(MAX(id), 0) FROM invitations;
INSERT INTO id_floor (tbl, last) SELECT 'alerts', COALESCE(MAX(id), 0) FROM alerts;
INSERT INTO id_floor (tbl, last) SELECT 'policies', COALESCE(MAX(id), 0) FROM policies;
INSERT INTO id_floor (tbl, last) SELECT 'rotations', COALESCE(MAX(id), 0) FROM rotations;
INSERT INTO id_floor (tbl, last) SELECT 'overrides', COALESCE(MAX(id), 0) FROM overrides;
INSERT INTO id_floor (tbl, last) SELECT 'swap_requests', COALESCE(MAX(id), 0) FROM swap_requests;
INSERT INTO id_floor (tbl, last) SELECT 'group_chats', COALESCE(MAX(id), 0) FROM group_chats;
INSERT INTO id_floor (tbl, last) SELECT 'drafts', COALESCE(MAX(id), 0) FROM drafts;

CREATE TRIGGER people_id_floor AFTER DELETE ON people
BEGIN
    UPDATE id_floor SET last = MAX(last, OLD.id) WHERE tbl = 'people';
END;

CREATE TRIGGER invitations_id_floor AFTER DELETE ON invitations
BEGIN
    UPDATE id_floor SET last = MAX(last, OLD.id) WHERE tbl = 'invitations';
END;

CREATE TRIGGER alerts_id_floor AFTER DELETE ON alerts
BEGIN
    UPDATE id_floor SET last = MAX(last, OLD.id) WHERE tbl = 'alerts';
END;

CREATE TRIGGER policies_id_floor AFTER DELETE ON policies
BEGIN
    UPDATE id_floor SET last = MAX(last, OLD.id) WHERE tbl = 'policies';
END;

CREATE TRIGGER rotations_id_floor AFTER DELETE ON rotations
BEGIN
    UPDATE id_floor SET last = MAX(last, OLD.id) WHERE tbl = 'rotations';
END;

CREATE TRIGGER overrides_id_floor AFTER DELETE ON overrides
BEGIN
    UPDATE id_floor SET last = MAX(last, OLD.id) WHERE tbl = 'overrides';
END;

CREATE TRIGGER swap_requests_id_floor AFTER DELETE ON swap_requests
BEGIN
    UPDATE id_floor SET last = MAX(last, OLD.id) WHERE tbl = 'swap_requests';
END;

CREATE TRIGGER group_chats_id_floor AFTER DELETE ON group_chats
BEGIN
    UPDATE id_floor SET last = MAX(last, OLD.id) WHERE tbl = 'group_chats';
END;

CREATE TRIGGER drafts_id_floor AFTER DELETE ON drafts
BEGIN
    UPDATE id_floor SET last = MAX(last, OLD.id) WHERE tbl = 'drafts';
END;
