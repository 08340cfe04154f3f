ALTER TABLE outbox RENAME COLUMN cause TO violation_id;
