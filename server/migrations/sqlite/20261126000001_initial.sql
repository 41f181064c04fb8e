-- SSAIDs issued (notice §01): when, and a coarse terminal type; never the full User-Agent.
CREATE TABLE ssaids (
    ssaid         TEXT PRIMARY KEY NOT NULL,
    issued_at     TEXT NOT NULL,
    terminal_type TEXT NOT NULL CHECK (terminal_type IN ('desktop', 'mobile', 'tablet', 'bot', 'unknown'))
);

-- Every consent decision, append-only: the proof of consent.
CREATE TABLE consent_events (
    id             TEXT PRIMARY KEY NOT NULL,
    ssaid          TEXT NOT NULL REFERENCES ssaids (ssaid),
    policy_version TEXT NOT NULL,
    categories     TEXT NOT NULL,
    action         TEXT NOT NULL,
    source         TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX consent_events_by_ssaid ON consent_events (ssaid, created_at);

CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;
