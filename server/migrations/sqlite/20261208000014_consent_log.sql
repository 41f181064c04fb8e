-- The consent log (issue 30, docs/consent-log.md): an RFC 9162 Merkle tree over every decision,
-- policy publication and deletion, with signed heads. No row of these tables holds personal
-- data: leaves hold salted commitments, deletions hold leaf indexes. They live as long as the
-- log (the service's lifetime), are never purged, erased or exported with a visitor's data;
-- the verification results are kept as long as the statistics (`retention.statistics_days`).

-- The salt of a decision's leaf, deleted with the decision (erasure, retention purge) so that
-- what its leaf committed to cannot be recovered. Decisions recorded before the log get one now.
ALTER TABLE consent_events ADD COLUMN log_salt TEXT;
DROP TRIGGER consent_events_no_update;
UPDATE consent_events SET log_salt = lower(hex(randomblob(16)));
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
    AND NEW.log_salt IS OLD.log_salt
)
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;

-- The log's size: writers take their leaves' numbers from it in their own transaction, so the
-- numbers follow commit order without gaps.
CREATE TABLE log_tip (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO log_tip (id, size) VALUES (1, 0);

-- The leaves: what each commits to and when (docs/consent-log.md, "Leaves").
CREATE TABLE log_leaves (
    leaf_index INTEGER PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('consent', 'policy', 'deletion')),
    record_id  TEXT NOT NULL,
    logged_at  TEXT NOT NULL,
    commitment TEXT NOT NULL,
    -- SHA-256(0x00 ‖ the leaf's data), kept so an instance reads the tree without rehashing;
    -- `server log verify` recomputes it from the columns above.
    leaf_hash  TEXT NOT NULL
);
CREATE UNIQUE INDEX log_leaves_by_record ON log_leaves (record_id, kind);
CREATE TRIGGER log_leaves_no_update BEFORE UPDATE ON log_leaves
BEGIN
    SELECT RAISE(ABORT, 'log_leaves is append-only');
END;
CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves
BEGIN
    SELECT RAISE(ABORT, 'log_leaves is append-only');
END;

-- Signed tree heads, one per tree size: the signed note as served.
CREATE TABLE log_heads (
    tree_size INTEGER PRIMARY KEY NOT NULL,
    root_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    note      TEXT NOT NULL
);
CREATE TRIGGER log_heads_no_update BEFORE UPDATE ON log_heads
BEGIN
    SELECT RAISE(ABORT, 'log_heads is append-only');
END;
CREATE TRIGGER log_heads_no_delete BEFORE DELETE ON log_heads
BEGIN
    SELECT RAISE(ABORT, 'log_heads is append-only');
END;

-- Deletions (an erasure, a batch of the retention purge) and the leaves whose records they
-- deleted: what lets a leaf outlive its record.
CREATE TABLE log_deletions (
    id         TEXT PRIMARY KEY NOT NULL,
    reason     TEXT NOT NULL CHECK (reason IN ('erasure', 'retention')),
    deleted_at TEXT NOT NULL,
    erasure_id TEXT
);
CREATE TABLE log_erased_leaves (
    leaf_index  INTEGER PRIMARY KEY NOT NULL,
    deletion_id TEXT NOT NULL REFERENCES log_deletions (id)
);
CREATE INDEX log_erased_leaves_by_deletion ON log_erased_leaves (deletion_id);

-- The results of `server log verify` and the console's "Verify now", for the console.
CREATE TABLE log_verifications (
    ran_at        TEXT NOT NULL,
    tree_size     INTEGER NOT NULL,
    heads         INTEGER NOT NULL,
    clean         INTEGER NOT NULL CHECK (clean IN (0, 1)),
    problems      INTEGER NOT NULL,
    first_problem TEXT
);
CREATE INDEX log_verifications_by_time ON log_verifications (ran_at);
