-- The update trigger listed the columns of its day and so missed `made_at` (migration 7): the
-- time a choice was made could be rewritten. SQLite has no row-as-a-whole comparison (the
-- PostgreSQL trigger compares `to_jsonb(NEW) - 'ip_prefix'` and so covers every column), so
-- every column is listed again; `consent_events_cannot_be_rewritten_in_any_column` updates each
-- column the table has and fails when a column is added without being listed here.
DROP TRIGGER consent_events_no_update;
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
WHEN NOT (
    NEW.ip_prefix IS NULL
    AND NEW.id IS OLD.id AND NEW.ssaid IS OLD.ssaid AND NEW.policy_version IS OLD.policy_version
    AND NEW.categories IS OLD.categories AND NEW.action IS OLD.action
    AND NEW.source IS OLD.source AND NEW.created_at IS OLD.created_at
    AND NEW.policy_hash IS OLD.policy_hash AND NEW.banner_text_hash IS OLD.banner_text_hash
    AND NEW.language IS OLD.language AND NEW.ua_class IS OLD.ua_class
    AND NEW.origin IS OLD.origin AND NEW.made_at IS OLD.made_at
)
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;
