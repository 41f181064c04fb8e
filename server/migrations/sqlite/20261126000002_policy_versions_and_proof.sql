-- Published policy versions (notice §11): immutable once published.
CREATE TABLE policy_versions (
    version      TEXT PRIMARY KEY NOT NULL,
    hash         TEXT NOT NULL,
    material     INTEGER NOT NULL CHECK (material IN (0, 1)),
    published_at TEXT NOT NULL,
    source       TEXT NOT NULL
);
CREATE INDEX policy_versions_by_time ON policy_versions (published_at);

CREATE TRIGGER policy_versions_no_update BEFORE UPDATE ON policy_versions
BEGIN
    SELECT RAISE(ABORT, 'published policy versions are immutable');
END;
CREATE TRIGGER policy_versions_no_delete BEFORE DELETE ON policy_versions
BEGIN
    SELECT RAISE(ABORT, 'published policy versions are immutable');
END;

-- What the proof of consent needs beyond the first slice. Rows recorded before this
-- migration have no hashes ('') and an unknown user-agent class.
ALTER TABLE consent_events ADD COLUMN policy_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN banner_text_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN ip_prefix TEXT;
ALTER TABLE consent_events ADD COLUMN ua_class TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE consent_events ADD COLUMN origin TEXT;
