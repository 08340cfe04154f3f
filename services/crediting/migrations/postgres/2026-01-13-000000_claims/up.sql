-- The item each record names (Art. 18: a project, patent, paper, book,
-- standard, lecture or exam engagement, competition, other-form item), by
-- its evidence key: how a claim that leaves no room for another engineer's
-- is found (two principal investigators of one project, Art. 27). Filled
-- for records stored before this table at the service's start.
CREATE TABLE claims (
    record_id TEXT PRIMARY KEY,
    engineer_id TEXT NOT NULL,
    evidence_key TEXT NOT NULL
);
CREATE INDEX claims_key ON claims (evidence_key, engineer_id);
