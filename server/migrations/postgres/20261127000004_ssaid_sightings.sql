-- Risk control with the SSAID (notice §01). Where each SSAID was seen by the ZecCloud back ends
-- that asked about it: one row per SSAID, network (truncated, as in the proof) and day (UTC,
-- YYYY-MM-DD); coarse terminal types as a bit set, counts, never an address or User-Agent.
-- Rows live `sightings_retention_days` (90, notice §04) after they were last seen; the
-- service's purge deletes them, and erasing a visitor's data deletes theirs.
CREATE TABLE ssaid_sightings (
    ssaid          TEXT NOT NULL,
    network        TEXT NOT NULL,
    day            TEXT NOT NULL,
    terminal_types BIGINT NOT NULL,
    seen_count     BIGINT NOT NULL,
    first_seen     TIMESTAMPTZ NOT NULL,
    last_seen      TIMESTAMPTZ NOT NULL,
    last_service   TEXT NOT NULL,
    last_event     TEXT NOT NULL,
    PRIMARY KEY (ssaid, network, day)
);
CREATE INDEX ssaid_sightings_by_last_seen ON ssaid_sightings (last_seen);

-- Per network and 5-minute window, summed over every instance: SSAIDs issued (`minted`) and
-- forged, foreign-signed or retired-key tokens presented (`forged`). Rows live
-- `sightings_retention_days`, then the purge deletes them; they name no visitor.
CREATE TABLE network_counters (
    network      TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('minted', 'forged')),
    window_start TIMESTAMPTZ NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (network, kind, window_start)
);
CREATE INDEX network_counters_by_window ON network_counters (window_start);
