-- One evaluation per learner, institution and period (Art. 25): a repeat
-- replaces the earlier answer. Of earlier repeats, the latest stays.
DELETE FROM evaluations
WHERE learner IS NOT NULL
  AND EXISTS (
    SELECT 1 FROM evaluations later
    WHERE later.institution_id = evaluations.institution_id
      AND later.period = evaluations.period
      AND later.learner = evaluations.learner
      AND (later.create_micros > evaluations.create_micros
           OR (later.create_micros = evaluations.create_micros AND later.id > evaluations.id))
  );
CREATE UNIQUE INDEX evaluations_learner ON evaluations (institution_id, period, learner);
