-- Every field an institution serves (Art. 29), as the registry last said, so
-- a field's regulator and a field filter find it under any of its fields.
CREATE TABLE institution_fields (
    institution_id TEXT NOT NULL,
    field INTEGER NOT NULL,
    PRIMARY KEY (institution_id, field)
);
CREATE INDEX institution_fields_field ON institution_fields (field, institution_id);
-- Until an institution is rescored, its first field is all that is known.
INSERT INTO institution_fields (institution_id, field)
    SELECT DISTINCT institution_id, field FROM scores WHERE field <> 0;
