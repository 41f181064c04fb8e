-- The consent log (issue 30, docs/consent-log.md): an RFC 9162 Merkle tree over every decision,
-- policy publication and deletion, with signed heads. No row of these tables holds personal
-- data: leaves hold salted commitments, deletions hold leaf indexes. They live as long as the
-- log (the service's lifetime), are never purged, erased or exported with a visitor's data;
-- the verification results are kept as long as the statistics (`retention.statistics_days`).

-- The salt of a decision's leaf, deleted with the decision (erasure, retention purge) so that
-- what its leaf committed to cannot be recovered. Decisions recorded before the log get one now
-- (128 bits from the server's strong random source).
ALTER TABLE consent_events ADD COLUMN log_salt TEXT;
ALTER TABLE consent_events DISABLE TRIGGER consent_events_no_update;
UPDATE consent_events
    SET log_salt = substr(encode(sha256(convert_to(gen_random_uuid()::text
        || gen_random_uuid()::text, 'UTF8')), 'hex'), 1, 32);
ALTER TABLE consent_events ENABLE TRIGGER consent_events_no_update;

-- The log's size: writers take their leaves' numbers from it in their own transaction (its
-- row lock orders them), so the numbers follow commit order without gaps across instances.
CREATE TABLE log_tip (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO log_tip (id, size) VALUES (1, 0);

CREATE FUNCTION log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

-- The leaves: what each commits to and when (docs/consent-log.md, "Leaves").
CREATE TABLE log_leaves (
    leaf_index BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('consent', 'policy', 'deletion')),
    record_id  TEXT NOT NULL,
    logged_at  TIMESTAMPTZ NOT NULL,
    commitment TEXT NOT NULL,
    -- SHA-256(0x00 ‖ the leaf's data), kept so an instance reads the tree without rehashing;
    -- `server log verify` recomputes it from the columns above.
    leaf_hash  TEXT NOT NULL
);
CREATE UNIQUE INDEX log_leaves_by_record ON log_leaves (record_id, kind);
CREATE TRIGGER log_leaves_no_change BEFORE UPDATE OR DELETE ON log_leaves
    FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER log_leaves_no_truncate BEFORE TRUNCATE ON log_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION log_append_only();

-- Signed tree heads, one per tree size: the signed note as served.
CREATE TABLE log_heads (
    tree_size BIGINT PRIMARY KEY,
    root_hash TEXT NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL,
    key_id    TEXT NOT NULL,
    note      TEXT NOT NULL
);
CREATE TRIGGER log_heads_no_change BEFORE UPDATE OR DELETE ON log_heads
    FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER log_heads_no_truncate BEFORE TRUNCATE ON log_heads
    FOR EACH STATEMENT EXECUTE FUNCTION log_append_only();

-- Deletions (an erasure, a batch of the retention purge) and the leaves whose records they
-- deleted: what lets a leaf outlive its record.
CREATE TABLE log_deletions (
    id         TEXT PRIMARY KEY,
    reason     TEXT NOT NULL CHECK (reason IN ('erasure', 'retention')),
    deleted_at TIMESTAMPTZ NOT NULL,
    erasure_id TEXT
);
CREATE TABLE log_erased_leaves (
    leaf_index  BIGINT PRIMARY KEY,
    deletion_id TEXT NOT NULL REFERENCES log_deletions (id)
);
CREATE INDEX log_erased_leaves_by_deletion ON log_erased_leaves (deletion_id);

-- The results of `server log verify` and the console's "Verify now", for the console.
CREATE TABLE log_verifications (
    ran_at        TIMESTAMPTZ NOT NULL,
    tree_size     BIGINT NOT NULL,
    heads         BIGINT NOT NULL,
    clean         BOOLEAN NOT NULL,
    problems      BIGINT NOT NULL,
    first_problem TEXT
);
CREATE INDEX log_verifications_by_time ON log_verifications (ran_at);
