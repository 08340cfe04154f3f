-- Supervision's tables. Enums as proto numbers, times as microseconds since
-- the Unix epoch, messages as their protobuf encoding.

-- Violations (Art. 16, 26, 27): the whole Violation message in body, and
-- the columns lists filter on.
CREATE TABLE violations (
    id TEXT PRIMARY KEY,
    institution_id TEXT,
    engineer_id TEXT,
    category INTEGER NOT NULL,
    state INTEGER NOT NULL,
    province TEXT NOT NULL,
    field INTEGER NOT NULL,
    body BLOB NOT NULL,
    -- Idempotency: who recorded it and their request id, and what it said.
    recorded_by TEXT NOT NULL,
    request_id TEXT,
    request_digest TEXT,
    create_micros BIGINT NOT NULL,
    update_micros BIGINT NOT NULL,
    UNIQUE (recorded_by, request_id)
);
CREATE INDEX violations_province ON violations (province, id);
CREATE INDEX violations_institution ON violations (institution_id, id);
CREATE INDEX violations_engineer ON violations (engineer_id, id);

-- Notifications to employers (Art. 27).
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    employer_id TEXT NOT NULL,
    violation_id TEXT NOT NULL,
    province TEXT NOT NULL,
    body BLOB NOT NULL,
    create_micros BIGINT NOT NULL,
    acknowledge_micros BIGINT
);
CREATE INDEX notifications_employer ON notifications (employer_id, id);
CREATE INDEX notifications_province ON notifications (province, id);

-- Effects on other services, written in the transaction of the decision
-- that causes them and delivered until the peer acknowledges. The id is
-- the idempotency key the peer sees.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    violation_id TEXT NOT NULL,
    -- registry.ChangeInstitutionStanding or crediting.RevokeHourRecords.
    method TEXT NOT NULL,
    -- The request, protobuf-encoded.
    payload BLOB NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_micros BIGINT NOT NULL,
    last_error TEXT,
    create_micros BIGINT NOT NULL,
    delivered_micros BIGINT
);
CREATE INDEX outbox_due ON outbox (delivered_micros, next_attempt_micros);
