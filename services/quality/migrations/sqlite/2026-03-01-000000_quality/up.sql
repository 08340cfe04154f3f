-- Quality monitoring's tables (Art. 25). Times as microseconds since the
-- Unix epoch, messages as their protobuf encoding.

-- Learners' evaluations, one row each.
CREATE TABLE evaluations (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL,
    period TEXT NOT NULL,
    learner TEXT,
    activity TEXT,
    score INTEGER NOT NULL,
    submitted_by TEXT NOT NULL,
    create_micros BIGINT NOT NULL
);
CREATE INDEX evaluations_institution ON evaluations (institution_id, period);

-- Measured indicators: the latest value of each, with its source.
CREATE TABLE indicators (
    institution_id TEXT NOT NULL,
    period TEXT NOT NULL,
    indicator INTEGER NOT NULL,
    value REAL NOT NULL,
    samples BIGINT NOT NULL,
    source TEXT NOT NULL,
    take_micros BIGINT NOT NULL,
    PRIMARY KEY (institution_id, period, indicator)
);

-- The current score of each institution and period, for rankings.
CREATE TABLE scores (
    institution_id TEXT NOT NULL,
    period TEXT NOT NULL,
    province TEXT NOT NULL,
    field INTEGER NOT NULL,
    state INTEGER NOT NULL,
    score REAL NOT NULL,
    grade TEXT NOT NULL,
    body BLOB NOT NULL,
    compute_micros BIGINT NOT NULL,
    PRIMARY KEY (institution_id, period)
);
CREATE INDEX scores_ranking ON scores (period, state, score, institution_id);

-- Every score ever computed.
CREATE TABLE score_history (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL,
    period TEXT NOT NULL,
    body BLOB NOT NULL,
    compute_micros BIGINT NOT NULL
);
CREATE INDEX score_history_institution ON score_history (institution_id, id);

-- Effects on other services (ce_server::outbox).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    cause TEXT NOT NULL,
    method TEXT NOT NULL,
    payload BLOB NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_micros BIGINT NOT NULL,
    last_error TEXT,
    create_micros BIGINT NOT NULL,
    delivered_micros BIGINT
);
CREATE INDEX outbox_due ON outbox (delivered_micros, next_attempt_micros);
