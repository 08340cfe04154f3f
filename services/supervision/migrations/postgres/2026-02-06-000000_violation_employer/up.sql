-- An employer that refused or obstructed an inspection (Art. 24) is the
-- subject of its own violation, beside institutions and engineers.
ALTER TABLE violations ADD COLUMN employer_id TEXT;
CREATE INDEX violations_employer ON violations (employer_id, id);
