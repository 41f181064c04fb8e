-- SSAIDs issued (notice §01): when, and a coarse terminal type; never the full User-Agent.
CREATE TABLE ssaids (
    ssaid         TEXT PRIMARY KEY,
    issued_at     TIMESTAMPTZ NOT NULL,
    terminal_type TEXT NOT NULL CHECK (terminal_type IN ('desktop', 'mobile', 'tablet', 'bot', 'unknown'))
);

-- Every consent decision, append-only: the proof of consent.
CREATE TABLE consent_events (
    id             UUID PRIMARY KEY,
    ssaid          TEXT NOT NULL REFERENCES ssaids (ssaid),
    policy_version TEXT NOT NULL,
    categories     JSONB NOT NULL,
    action         TEXT NOT NULL,
    source         TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX consent_events_by_ssaid ON consent_events (ssaid, created_at);

CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_events is append-only';
END;
$$;
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();
