-- Each time an institution's grade for a period changes (or is first given).
CREATE TABLE grade_changes (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL,
    period TEXT NOT NULL,
    province TEXT NOT NULL,
    from_grade TEXT,
    to_grade TEXT NOT NULL,
    change_micros BIGINT NOT NULL
);
CREATE INDEX grade_changes_province ON grade_changes (province, id);
