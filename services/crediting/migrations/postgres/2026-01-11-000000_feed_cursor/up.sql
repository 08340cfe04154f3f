-- How far crediting has read another service's feed (the registry's
-- changes of where engineers are: ListEngineerChanges). Only moves
-- forward; replicas share it.
CREATE TABLE feed_cursors (
    feed TEXT PRIMARY KEY,
    sequence BIGINT NOT NULL
);
-- The last of the registry's engineer changes applied to each engineer, so
-- a replica that is behind never puts an engineer's years back under a
-- place they have since left.
CREATE TABLE followed_engineers (
    engineer_id TEXT PRIMARY KEY,
    sequence BIGINT NOT NULL
);
