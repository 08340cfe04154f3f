-- SQLite's migration of this version drops AUTOINCREMENT from the audit
-- log's id; PostgreSQL's BIGSERIAL has no such cost, so nothing changes.
SELECT 1;
