-- WatchScores follows the history by computation time, whichever replica
-- computed the score.
CREATE INDEX score_history_time ON score_history (compute_micros, id);
