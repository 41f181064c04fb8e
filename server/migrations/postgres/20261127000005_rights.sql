-- Rights (notice §07) and retention (§04): the one mechanism through which proof of consent
-- may be deleted. A deletion path (erasure of one SSAID, the retention purge) first lists the
-- SSAID here, deletes, and removes the listing again, all in one transaction; any other DELETE
-- on consent_events is still refused (TRUNCATE always is). Rows live only inside that
-- transaction.
CREATE TABLE sanctioned_deletions (
    ssaid  TEXT PRIMARY KEY,
    reason TEXT NOT NULL CHECK (reason IN ('erasure', 'retention'))
);
CREATE FUNCTION consent_events_sanctioned_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM sanctioned_deletions WHERE ssaid = OLD.ssaid) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'consent_events is append-only';
END;
$$;
DROP TRIGGER consent_events_no_delete ON consent_events;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_sanctioned_delete();

-- Evidence that an erasure was handled, without the data: when, through which channel (and
-- the ticket), a keyed hash of the SSAID (a repeated request is recognised, the SSAID cannot be
-- read back), how many rows went per table, and what Matomo said. Kept `erasure_retention_days`
-- (3 years by default: as long as a complaint about the request can come).
CREATE TABLE erasures (
    id           TEXT PRIMARY KEY,
    erased_at    TIMESTAMPTZ NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('self_service', 'staff')),
    ticket       TEXT,
    subject_hash TEXT NOT NULL,
    deleted      JSONB NOT NULL,
    matomo       TEXT NOT NULL
);
CREATE INDEX erasures_by_subject ON erasures (subject_hash);

-- Consent ids no longer honoured although their signed cookies may still exist (a copy in a
-- script, a second tab): erased, or withdrawn by a later choice. Each row lives until the
-- cookie it refers to would have expired (`expires_at`), then the purge deletes it.
CREATE TABLE revoked_consents (
    event_id   TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX revoked_consents_by_expiry ON revoked_consents (expires_at);

-- Retention (§04) clears the network prefix of decisions older than its limit: the one change
-- an event admits. Every other UPDATE is still refused.
CREATE FUNCTION consent_events_only_prefix_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ip_prefix IS NULL AND (to_jsonb(NEW) - 'ip_prefix') = (to_jsonb(OLD) - 'ip_prefix') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'consent_events is append-only';
END;
$$;
DROP TRIGGER consent_events_no_update ON consent_events;
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_only_prefix_cleared();

-- An erasure carried through to Matomo: one job per erasure, retried with back-off until it
-- succeeds or `erasure_max_attempts` is reached (then `failed`, for a human to look at). The
-- visitor id (a keyed pseudonym) is cleared once done; done jobs live as long as their
-- erasure's evidence (`erasure_record_days`), failed ones until someone handles them.
CREATE TABLE matomo_erasure_jobs (
    erasure_id      TEXT PRIMARY KEY,
    visitor_id      TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    attempts        BIGINT NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    deleted         TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
-- What each instance polls every second: the pending jobs that are due.
CREATE INDEX matomo_erasure_jobs_due ON matomo_erasure_jobs (state, next_attempt_at);
