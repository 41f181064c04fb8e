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
