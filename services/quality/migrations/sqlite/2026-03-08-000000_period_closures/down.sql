DROP TABLE period_closures;
