-- Undoes nothing: see up.sql.
SELECT 1;
