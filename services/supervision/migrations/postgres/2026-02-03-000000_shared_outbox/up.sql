-- The outbox takes the shape ce_server::outbox uses in every service: what
-- caused an effect is its `cause`.
ALTER TABLE outbox RENAME COLUMN violation_id TO cause;
