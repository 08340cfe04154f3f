-- The last quality-monitoring result applied per institution and period,
-- poor or not, so a report or withdrawal that arrives late (older than the
-- one applied) changes nothing, and the violation it raised is found.
CREATE TABLE quality_results (
    id TEXT PRIMARY KEY,
    violation_id TEXT,
    poor INTEGER NOT NULL,
    compute_micros BIGINT NOT NULL
);
-- A notification to the department that decided a violation whose basis
-- changed; employer_id is '' for those.
ALTER TABLE notifications ADD COLUMN department TEXT;
