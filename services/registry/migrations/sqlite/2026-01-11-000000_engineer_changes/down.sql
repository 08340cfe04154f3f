DROP TABLE engineer_change_head;
DROP TABLE engineer_changes;
