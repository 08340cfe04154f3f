-- Each hour certificate's place in the issuer's revocation status list (a
-- W3C Bitstring Status List, docs/architecture.md, "Certificates anyone
-- can verify"): a number given once, when the certificate is issued, never
-- reused. Its bit is set when the certificate is revoked. Certificates
-- issued before get numbers too, in the order they were issued, so the
-- list states their revocation as well (their documents do not point at
-- it: they were signed without it).
ALTER TABLE hour_certificates ADD COLUMN status_index BIGINT;
UPDATE hour_certificates AS c SET status_index = n.i
    FROM (SELECT id, row_number() OVER (ORDER BY create_micros, id) - 1 AS i
          FROM hour_certificates) AS n
    WHERE n.id = c.id;
CREATE UNIQUE INDEX hour_certificates_status_index ON hour_certificates (status_index);

-- The next status-list number to give; its row lock orders concurrent issues.
CREATE TABLE status_list_head (
    id INTEGER PRIMARY KEY,
    next_index BIGINT NOT NULL
);
INSERT INTO status_list_head (id, next_index) SELECT 1, count(*) FROM hour_certificates;
