-- When the recorded grade was computed: of two grades for one period, the
-- later computed stays, whatever order they arrive in.
ALTER TABLE institutions ADD COLUMN quality_compute_micros BIGINT;
