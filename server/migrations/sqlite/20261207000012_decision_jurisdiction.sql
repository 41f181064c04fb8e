-- Where a decision was made, as far as the service could tell (issue 29): the policy's
-- jurisdiction, its regime, the visitor's country and where that came from. NULL for decisions
-- recorded before jurisdictions existed: they were all made under opt-in. Rows live as long
-- as the decision they belong to (the proof's retention; erased with the subject).
ALTER TABLE consent_events ADD COLUMN jurisdiction TEXT;
ALTER TABLE consent_events ADD COLUMN regime TEXT
    CHECK (regime IN ('opt_in', 'opt_out', 'notice'));
ALTER TABLE consent_events ADD COLUMN country TEXT;
ALTER TABLE consent_events ADD COLUMN country_source TEXT
    CHECK (country_source IN ('header', 'geoip', 'unknown'));

-- The new columns are as append-only as the others (see migration 9).
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
    AND NEW.jurisdiction IS OLD.jurisdiction AND NEW.regime IS OLD.regime
    AND NEW.country IS OLD.country AND NEW.country_source IS OLD.country_source
)
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;
