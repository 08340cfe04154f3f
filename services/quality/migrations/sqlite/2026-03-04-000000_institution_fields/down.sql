DROP TABLE institution_fields;
