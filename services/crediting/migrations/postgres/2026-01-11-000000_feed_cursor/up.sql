-- How far crediting has read another service's feed (the registry's
-- changes of where engineers are: ListEngineerChanges). Only moves
-- forward; replicas share it.
CREATE TABLE feed_cursors (
    feed TEXT PRIMARY KEY,
    sequence BIGINT NOT NULL
);
