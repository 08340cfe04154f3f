-- Which monitoring periods are closed, per province: a closed period's
-- scores are final, and only a final poor result reaches supervision
-- (Art. 25, 26). A reopened period keeps its row with closed = 0.
CREATE TABLE period_closures (
    province TEXT NOT NULL,
    period TEXT NOT NULL,
    closed INTEGER NOT NULL,
    changed_by TEXT NOT NULL,
    -- Why it was last reopened.
    reason TEXT,
    change_micros BIGINT NOT NULL,
    PRIMARY KEY (province, period)
);
