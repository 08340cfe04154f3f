-- How far quality monitoring has read another service's change feed
-- (crediting's: hour records uploaded by institutions).
CREATE TABLE feed_cursors (
    feed TEXT PRIMARY KEY,
    sequence BIGINT NOT NULL
);
