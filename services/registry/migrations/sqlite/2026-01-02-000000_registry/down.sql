DROP TABLE activities;
DROP TABLE standing_changes;
DROP TABLE institutions;
DROP TABLE engineer_moves;
DROP TABLE engineers;
DROP TABLE employers;
