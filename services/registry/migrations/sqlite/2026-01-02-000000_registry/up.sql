-- The registry's tables. Enums are stored as their proto numbers, dates as
-- ISO 8601 text (YYYY-MM-DD), times as microseconds since the Unix epoch.

CREATE TABLE employers (
    id TEXT PRIMARY KEY,
    credit_code TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    province TEXT NOT NULL,
    create_micros BIGINT NOT NULL,
    update_micros BIGINT NOT NULL
);
CREATE INDEX employers_province ON employers (province, id);

CREATE TABLE engineers (
    id TEXT PRIMARY KEY,
    id_number TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    province TEXT NOT NULL,
    field INTEGER NOT NULL,
    title_level INTEGER NOT NULL,
    employer_id TEXT REFERENCES employers (id),
    create_micros BIGINT NOT NULL,
    update_micros BIGINT NOT NULL
);
CREATE INDEX engineers_province ON engineers (province, id);
CREATE INDEX engineers_field ON engineers (field, id);
CREATE INDEX engineers_employer ON engineers (employer_id, id);

-- Art. 22: an engineer who moves keeps one identity; each move is kept.
CREATE TABLE engineer_moves (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    engineer_id TEXT NOT NULL REFERENCES engineers (id),
    from_province TEXT NOT NULL,
    to_province TEXT NOT NULL,
    at_micros BIGINT NOT NULL,
    request_id TEXT NOT NULL
);
CREATE INDEX engineer_moves_engineer ON engineer_moves (engineer_id, id);

CREATE TABLE institutions (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    province TEXT NOT NULL,
    -- Field and delivery-mode numbers as ",7,18," so one LIKE finds a member.
    fields TEXT NOT NULL,
    delivery_modes TEXT NOT NULL,
    disclosure_scope TEXT NOT NULL,
    disclosure_content TEXT NOT NULL,
    -- JSON array of {"item": …, "amount_fen": …}.
    fee_items TEXT NOT NULL,
    -- Standing in force today; refreshed when a dated change
    -- falls due (next_change_date).
    standing INTEGER NOT NULL,
    standing_effective_date TEXT NOT NULL,
    next_change_date TEXT,
    create_micros BIGINT NOT NULL,
    update_micros BIGINT NOT NULL
);
CREATE INDEX institutions_province ON institutions (province, id);
CREATE INDEX institutions_standing ON institutions (standing, id);
CREATE INDEX institutions_next_change ON institutions (next_change_date);

CREATE TABLE standing_changes (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    standing INTEGER NOT NULL,
    reason TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    article TEXT NOT NULL,
    case_reference TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_by_role TEXT NOT NULL,
    request_id TEXT,
    -- Hash of the request's content, to refuse a reused request_id.
    request_digest TEXT,
    create_micros BIGINT NOT NULL,
    UNIQUE (institution_id, request_id)
);
CREATE INDEX standing_changes_institution ON standing_changes (institution_id, id);

CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    organiser_kind INTEGER NOT NULL,
    organiser TEXT NOT NULL,
    province TEXT NOT NULL,
    field INTEGER NOT NULL,
    subject_category INTEGER NOT NULL,
    delivery_mode INTEGER NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    hours_per_day DOUBLE NOT NULL,
    fee_fen BIGINT NOT NULL,
    create_micros BIGINT NOT NULL,
    update_micros BIGINT NOT NULL
);
CREATE INDEX activities_province ON activities (province, id);
CREATE INDEX activities_organiser ON activities (organiser, id);
CREATE INDEX activities_field ON activities (field, id);
