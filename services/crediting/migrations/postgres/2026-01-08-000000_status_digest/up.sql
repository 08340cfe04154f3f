-- A digest of the stored status (the first eight bytes of its SHA-256), so
-- closing a year compares what it computed with what is stored without
-- reading every stored status back. NULL for statuses stored before this
-- column existed: those are compared in full, and get a digest when next
-- written.
ALTER TABLE annual_statuses ADD COLUMN status_digest BIGINT;
-- The statuses stored so far get theirs now: the same first eight bytes of
-- the SHA-256, read as a signed big-endian integer (store::status_digest).
UPDATE annual_statuses
SET status_digest = ('x' || substr(encode(sha256(status), 'hex'), 1, 16))::bit(64)::bigint;
