-- What the audit log's index on `resource` costs when rows come in random
-- `resource` order: 1,000,000 audit-shaped rows inserted into the same table
-- with the b-tree, with no index, and with a hash index.
-- Usage: psql postgres://postgres@127.0.0.1:5432/test -f audit_index.sql
\timing on
DROP TABLE IF EXISTS probe_src, probe_btree, probe_none, probe_hash;
CREATE TABLE probe_src AS
SELECT g AS id, 1764633600000000 + g AS at_micros, 'hrss-44-bench' AS actor,
       'ROLE_PROVINCIAL_HRSS' AS role, '44'::text AS province,
       '/ce.crediting.v1.CreditingService/BulkUploadHourRecords' AS rpc,
       'engineers/' || md5((g / 10)::text)::uuid || '/hourRecords/' || md5(g::text)::uuid AS resource,
       md5((g / 1000)::text)::uuid::text AS request_id, 'OK'::text AS outcome
FROM generate_series(1, 1000000) g;
CREATE TABLE probe_btree (id BIGINT PRIMARY KEY, at_micros BIGINT NOT NULL, actor TEXT NOT NULL,
    role TEXT NOT NULL, province TEXT, rpc TEXT NOT NULL, resource TEXT NOT NULL,
    request_id TEXT NOT NULL, outcome TEXT NOT NULL);
CREATE INDEX probe_btree_resource ON probe_btree (resource);
CREATE TABLE probe_none (LIKE probe_btree INCLUDING DEFAULTS);
ALTER TABLE probe_none ADD PRIMARY KEY (id);
CREATE TABLE probe_hash (LIKE probe_btree INCLUDING DEFAULTS);
ALTER TABLE probe_hash ADD PRIMARY KEY (id);
CREATE INDEX probe_hash_resource ON probe_hash USING hash (resource);
CHECKPOINT;
INSERT INTO probe_btree SELECT * FROM probe_src;
CHECKPOINT;
INSERT INTO probe_none SELECT * FROM probe_src;
CHECKPOINT;
INSERT INTO probe_hash SELECT * FROM probe_src;
SELECT pg_size_pretty(pg_relation_size('probe_btree_resource')) AS btree,
       pg_size_pretty(pg_relation_size('probe_hash_resource')) AS hash;
DROP TABLE probe_src, probe_btree, probe_none, probe_hash;
