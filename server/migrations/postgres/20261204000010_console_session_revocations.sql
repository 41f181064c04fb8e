-- Console sessions signed out before they expired: a copy of the zc_admin cookie (another
-- browser, a script) is refused by every instance, which all read this table. A row is a
-- random session id and the time the session would have expired; it lives until then, and the
-- purge deletes it (a session past expires_at is refused anyway). No personal data: nothing
-- here names a visitor or an operator, so the access export and erasure do not cover it.
CREATE TABLE console_session_revocations (
    session_id TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_session_revocations_by_expiry ON console_session_revocations (expires_at);
