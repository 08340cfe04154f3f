DROP TABLE outbox;
DROP TABLE notifications;
DROP TABLE violations;
