-- The secret seed of an inspection draw between its commitment and the
-- draw (Art. 24): kept out of the inspection, which anyone in scope reads,
-- and revealed in the sample when the draw is made.
CREATE TABLE draw_secrets (
    inspection_id TEXT PRIMARY KEY,
    seed_hex TEXT NOT NULL
);
