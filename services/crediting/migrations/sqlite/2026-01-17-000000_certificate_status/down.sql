DROP TABLE status_list_head;
DROP INDEX hour_certificates_status_index;
ALTER TABLE hour_certificates DROP COLUMN status_index;
