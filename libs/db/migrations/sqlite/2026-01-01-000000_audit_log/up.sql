-- Append-only audit log: who did what, when, through which RPC, to which
-- resource, with which outcome. Nothing updates or deletes its rows.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_micros BIGINT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    province TEXT,
    rpc TEXT NOT NULL,
    resource TEXT NOT NULL,
    request_id TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX audit_log_resource ON audit_log (resource);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
