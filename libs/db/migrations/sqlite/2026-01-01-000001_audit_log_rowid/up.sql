-- The audit log's id becomes a plain rowid alias, without AUTOINCREMENT.
-- AUTOINCREMENT only promises that the id of a deleted last row is never
-- used again, and nothing deletes from this log; it costs an update of
-- sqlite_sequence with every insert, a row a record on a bulk upload.
-- Ids stay increasing: a new row's is one past the largest.
CREATE TABLE audit_log_rowid (
    id INTEGER PRIMARY KEY,
    at_micros BIGINT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    province TEXT,
    rpc TEXT NOT NULL,
    resource TEXT NOT NULL,
    request_id TEXT NOT NULL,
    outcome TEXT NOT NULL
);
INSERT INTO audit_log_rowid SELECT id, at_micros, actor, role, province, rpc, resource, request_id, outcome FROM audit_log;
-- Dropping a table fires none of its triggers.
DROP TABLE audit_log;
ALTER TABLE audit_log_rowid RENAME TO audit_log;
DELETE FROM sqlite_sequence WHERE name = 'audit_log';
CREATE INDEX audit_log_resource ON audit_log (resource);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
