-- Each engineer's last change of place in engineer_changes (0 before the
-- first), served as Engineer.place_sequence: crediting compares it with
-- the changes it has applied, to tell which of two places is the later.
ALTER TABLE engineers ADD COLUMN place_sequence BIGINT NOT NULL DEFAULT 0;
-- One pass over the changes (engineer_changes has no index on engineer_id).
UPDATE engineers
SET place_sequence = m.last
FROM (
    SELECT engineer_id, MAX(sequence) AS last FROM engineer_changes GROUP BY engineer_id
) AS m
WHERE m.engineer_id = engineers.id;
