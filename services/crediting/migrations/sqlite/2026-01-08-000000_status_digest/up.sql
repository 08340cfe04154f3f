-- A digest of the stored status (the first eight bytes of its SHA-256), so
-- closing a year compares what it computed with what is stored without
-- reading every stored status back. NULL for statuses stored before this
-- column existed: those are compared in full, and get a digest when next
-- written.
ALTER TABLE annual_statuses ADD COLUMN status_digest BIGINT;
