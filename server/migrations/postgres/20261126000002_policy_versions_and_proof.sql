-- Published policy versions (notice §11): immutable once published.
CREATE TABLE policy_versions (
    version      TEXT PRIMARY KEY,
    hash         TEXT NOT NULL,
    material     BOOLEAN NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    source       TEXT NOT NULL
);
CREATE INDEX policy_versions_by_time ON policy_versions (published_at);

CREATE FUNCTION policy_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'published policy versions are immutable';
END;
$$;
CREATE TRIGGER policy_versions_no_change BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_versions_immutable();

-- What the proof of consent needs beyond the first slice. Rows recorded before this
-- migration have no hashes ('') and an unknown user-agent class.
ALTER TABLE consent_events
    ADD COLUMN policy_hash TEXT NOT NULL DEFAULT '',
    ADD COLUMN banner_text_hash TEXT NOT NULL DEFAULT '',
    ADD COLUMN language TEXT NOT NULL DEFAULT '',
    ADD COLUMN ip_prefix TEXT,
    ADD COLUMN ua_class TEXT NOT NULL DEFAULT 'unknown',
    ADD COLUMN origin TEXT;
