-- Rights (notice §07) and retention (§04): the one mechanism through which proof of consent
-- may be deleted. A deletion path (erasure of one SSAID, the retention purge) first lists the
-- SSAID here, deletes, and removes the listing again, all in one transaction; any other DELETE
-- on consent_events is still refused. Rows live only inside that transaction.
CREATE TABLE sanctioned_deletions (
    ssaid  TEXT PRIMARY KEY NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('erasure', 'retention'))
);
DROP TRIGGER consent_events_no_delete;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
WHEN NOT EXISTS (SELECT 1 FROM sanctioned_deletions WHERE ssaid = OLD.ssaid)
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;

-- Evidence that an erasure was handled, without the data: when, through which channel (and
-- the ticket), a keyed hash of the SSAID (a repeated request is recognised, the SSAID cannot be
-- read back), how many rows went per table, and what Matomo said. Kept `erasure_retention_days`
-- (3 years by default: as long as a complaint about the request can come).
CREATE TABLE erasures (
    id           TEXT PRIMARY KEY NOT NULL,
    erased_at    TEXT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('self_service', 'staff')),
    ticket       TEXT,
    subject_hash TEXT NOT NULL,
    deleted      TEXT NOT NULL,
    matomo       TEXT NOT NULL
);
CREATE INDEX erasures_by_subject ON erasures (subject_hash);

-- Consent ids no longer honoured although their signed cookies may still exist (a copy in a
-- script, a second tab): erased, or withdrawn by a later choice. Each row lives until the
-- cookie it refers to would have expired (`expires_at`), then the purge deletes it.
CREATE TABLE revoked_consents (
    event_id   TEXT PRIMARY KEY NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX revoked_consents_by_expiry ON revoked_consents (expires_at);

-- Retention (§04) clears the network prefix of decisions older than its limit: the one change
-- an event admits. Every other UPDATE is still refused.
DROP TRIGGER consent_events_no_update;
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
WHEN NOT (
    NEW.ip_prefix IS NULL
    AND NEW.id IS OLD.id AND NEW.ssaid IS OLD.ssaid AND NEW.policy_version IS OLD.policy_version
    AND NEW.categories IS OLD.categories AND NEW.action IS OLD.action
    AND NEW.source IS OLD.source AND NEW.created_at IS OLD.created_at
    AND NEW.policy_hash IS OLD.policy_hash AND NEW.banner_text_hash IS OLD.banner_text_hash
    AND NEW.language IS OLD.language AND NEW.ua_class IS OLD.ua_class
    AND NEW.origin IS OLD.origin
)
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;

-- An erasure carried through to Matomo: one job per erasure, retried with back-off until it
-- succeeds or `erasure_max_attempts` is reached (then `failed`, for a human to look at). The
-- visitor id (a keyed pseudonym) is cleared once done; done jobs live as long as their
-- erasure's evidence (`erasure_record_days`), failed ones until someone handles them.
CREATE TABLE matomo_erasure_jobs (
    erasure_id      TEXT PRIMARY KEY NOT NULL,
    visitor_id      TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    deleted         TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
-- What each instance polls every second: the pending jobs that are due.
CREATE INDEX matomo_erasure_jobs_due ON matomo_erasure_jobs (state, next_attempt_at);
