-- Delivery continues the trace of the change that caused an effect.
ALTER TABLE outbox ADD COLUMN trace_parent TEXT;
