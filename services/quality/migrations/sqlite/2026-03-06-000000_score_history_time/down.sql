DROP INDEX score_history_time;
