-- Each engineer's last change of place in engineer_changes (0 before the
-- first), served as Engineer.place_sequence: crediting compares it with
-- the changes it has applied, to tell which of two places is the later.
ALTER TABLE engineers ADD COLUMN place_sequence BIGINT NOT NULL DEFAULT 0;
UPDATE engineers
SET place_sequence = (
    SELECT MAX(c.sequence) FROM engineer_changes c WHERE c.engineer_id = engineers.id
)
WHERE EXISTS (SELECT 1 FROM engineer_changes c WHERE c.engineer_id = engineers.id);
