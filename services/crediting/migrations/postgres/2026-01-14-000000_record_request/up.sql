-- The request that created each record: the request id of the call, as its
-- audit row names it. A bulk message is audited in one row for all the
-- records it created (docs/audit.md, "Who created a record"). Records
-- stored before have none.
ALTER TABLE hour_records ADD COLUMN request_id TEXT;
