-- Seals over the audit log (docs/audit.md): each covers the audit rows it
-- lists, holds a hash of them and the hash of the seal before it. Written
-- by the service's sealer only, in order; nothing updates or deletes them.
CREATE TABLE audit_seals (
    -- 1, 2, 3, … in order; the sealer takes the next under a lock.
    id BIGINT PRIMARY KEY,
    sealed_at_micros BIGINT NOT NULL,
    -- The audit row ids it covers, as ranges: '1-40,43'.
    row_ids TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    -- Every id up to this one is covered by this seal or an earlier one,
    -- or listed in open_ids.
    through_id BIGINT NOT NULL,
    -- Ids up to through_id that an open transaction may still commit,
    -- each range with the seal that first saw it: '41-42@7'.
    open_ids TEXT NOT NULL,
    -- pg_current_snapshot()'s xmax when it was made (0 on SQLite).
    snapshot_xmax BIGINT NOT NULL,
    -- 16 bytes of SHA-256 per covered row, in id order.
    row_digests BYTEA NOT NULL,
    rows_hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE FUNCTION audit_seals_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_seals is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_seals_no_update BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_seals_append_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seals_append_only();
