DROP TABLE followed_engineers;
DROP TABLE feed_cursors;
