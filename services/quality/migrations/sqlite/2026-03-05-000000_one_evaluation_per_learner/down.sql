DROP INDEX evaluations_learner;
