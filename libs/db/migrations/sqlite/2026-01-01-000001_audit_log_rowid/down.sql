CREATE TABLE audit_log_autoincrement (
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
INSERT INTO audit_log_autoincrement SELECT id, at_micros, actor, role, province, rpc, resource, request_id, outcome FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_autoincrement RENAME TO audit_log;
CREATE INDEX audit_log_resource ON audit_log (resource);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
