-- SQLite's migration of this version makes the change feed's sequence
-- number its rowid; PostgreSQL's primary key is its only index already,
-- so nothing changes.
SELECT 1;
