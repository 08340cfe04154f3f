-- Crediting's tables. Enums as proto numbers, times as microseconds since
-- the Unix epoch, messages as their protobuf encoding.

-- Hour records are never deleted or edited in place (docs/product.md); their
-- state moves SUBMITTED -> CONFIRMED | REJECTED, CONFIRMED -> REVOKED.
CREATE TABLE hour_records (
    id TEXT PRIMARY KEY,
    engineer_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    -- The engineer's province, field and employer when it was registered:
    -- who may confirm it, and where it was registered (Art. 22).
    province TEXT NOT NULL,
    field INTEGER NOT NULL,
    employer_id TEXT,
    route INTEGER NOT NULL,
    state INTEGER NOT NULL,
    -- The activity as a protobuf-encoded HourRecord holding only it.
    activity BLOB NOT NULL,
    registry_activity TEXT NOT NULL,
    institution_id TEXT,
    claimed_centi BIGINT,
    submitted_by TEXT NOT NULL,
    submitted_role TEXT NOT NULL,
    -- Whose client_key namespace: the organisation, else the subject.
    submitter TEXT NOT NULL,
    client_key TEXT,
    content_digest TEXT NOT NULL,
    decided_by TEXT,
    decision_reason TEXT,
    -- The record's explanation in its year's current assessment.
    explanation BLOB,
    create_micros BIGINT NOT NULL,
    update_micros BIGINT NOT NULL,
    UNIQUE (submitter, client_key)
);
CREATE INDEX hour_records_engineer_year ON hour_records (engineer_id, year);
CREATE INDEX hour_records_province ON hour_records (province, id);
CREATE INDEX hour_records_state ON hour_records (state, id);

-- Each engineer's year, recomputed by the rules library in the transaction
-- that changes one of its records.
CREATE TABLE annual_statuses (
    engineer_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    province TEXT NOT NULL,
    field INTEGER NOT NULL,
    employer_id TEXT,
    state INTEGER NOT NULL,
    total_centi BIGINT NOT NULL,
    professional_centi BIGINT NOT NULL,
    -- The whole AnnualStatus message, protobuf-encoded, for cheap reads.
    status BLOB NOT NULL,
    -- The day it was computed (China time): a stored IN_PROGRESS or
    -- DEFERRED goes stale when its year ends.
    computed_on TEXT NOT NULL,
    update_micros BIGINT NOT NULL,
    PRIMARY KEY (engineer_id, year)
);
CREATE INDEX annual_statuses_province ON annual_statuses (year, province, engineer_id);
CREATE INDEX annual_statuses_employer ON annual_statuses (year, employer_id, engineer_id);
CREATE INDEX annual_statuses_state ON annual_statuses (year, state, engineer_id);
