-- Undoes nothing: PostgreSQL's migration of this version sets LZ4 on
-- stored statuses; SQLite does not compress values, so nothing changes.
SELECT 1;
