DROP TABLE outbox;
DROP TABLE score_history;
DROP TABLE scores;
DROP TABLE indicators;
DROP TABLE evaluations;
