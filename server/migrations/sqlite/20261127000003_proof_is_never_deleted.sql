-- Proof of consent is never deleted in place either: the only deletion paths (retention and
-- erasure, notice §04 and §07) come with their own, logged mechanism. SQLite has no TRUNCATE:
-- a DELETE without WHERE fires this trigger too.
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;
