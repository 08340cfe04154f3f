-- PostgreSQL's migration of the same version sets LZ4 compression on
-- stored statuses; SQLite does not compress values, so nothing changes.
SELECT 1;
