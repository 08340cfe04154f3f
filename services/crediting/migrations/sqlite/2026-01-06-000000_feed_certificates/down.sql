DROP TABLE hour_certificates;
DROP TABLE feed_head;
DROP TABLE changes;
