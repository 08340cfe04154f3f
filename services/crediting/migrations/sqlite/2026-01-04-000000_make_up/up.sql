-- Art. 20: an employer's certificate lets a year be made up during the next,
-- with records of that next year designated for it.
CREATE TABLE deferrals (
    engineer_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    reason INTEGER NOT NULL,
    explanation TEXT NOT NULL,
    certified_by TEXT NOT NULL,
    create_micros BIGINT NOT NULL,
    PRIMARY KEY (engineer_id, year)
);
ALTER TABLE hour_records ADD COLUMN make_up_for INTEGER;
