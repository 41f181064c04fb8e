-- When the visitor made a choice that their page delivered late (it kept the choice and retried
-- while the service could not save it): receipt time minus the age the page reported. NULL for
-- a choice delivered at once, made when it was recorded (created_at). Lives and goes with its
-- row: the purge, the access export and erasure already cover consent_events.
ALTER TABLE consent_events ADD COLUMN made_at TIMESTAMPTZ;
