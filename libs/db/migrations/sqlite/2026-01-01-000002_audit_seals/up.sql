-- Seals over the audit log (docs/audit.md): each covers the audit rows it
-- lists, holds a hash of them and the hash of the seal before it. Written
-- by the service's sealer only, in order; nothing updates or deletes them.
CREATE TABLE audit_seals (
    -- 1, 2, 3, … in order.
    id INTEGER PRIMARY KEY,
    sealed_at_micros BIGINT NOT NULL,
    -- The audit row ids it covers, as ranges: '1-40,43'.
    row_ids TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    -- Every id up to this one is covered by this seal or an earlier one.
    through_id BIGINT NOT NULL,
    -- Always empty on SQLite: no transaction is open while the sealer
    -- holds the write lock.
    open_ids TEXT NOT NULL,
    snapshot_xmax BIGINT NOT NULL,
    -- 16 bytes of SHA-256 per covered row, in id order.
    row_digests BLOB NOT NULL,
    rows_hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN
    SELECT RAISE(ABORT, 'audit_seals is append-only');
END;
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
BEGIN
    SELECT RAISE(ABORT, 'audit_seals is append-only');
END;
