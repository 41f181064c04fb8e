-- Risk control counts per address as well as per network (issue 28): one noisy address on a
-- shared network (CGNAT, an office, a cloud) must not raise its neighbours' risk on its own.
-- Per address (IPv4 address, IPv6 /64) and 5-minute window, summed over every instance: SSAIDs
-- issued (`minted`) and forged, foreign-signed or retired-key tokens presented (`forged`).
-- `address` is a keyed hash (`pseudonym_key`), never the address itself; `network` is the
-- truncated network (/24, /48) as elsewhere, so the network's signal is read from these rows
-- and `network_counters` is no longer needed. No row names a visitor or an SSAID (so neither
-- the access export nor erasure has anything here to give or take). Only the last hour is
-- ever read: rows live one day, then the hourly purge deletes them.
CREATE TABLE address_counters (
    address      TEXT NOT NULL,
    network      TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('minted', 'forged')),
    window_start TIMESTAMPTZ NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (address, kind, window_start)
);
CREATE INDEX address_counters_by_network ON address_counters (network, kind, window_start);
CREATE INDEX address_counters_by_window ON address_counters (window_start);

DROP TABLE network_counters;
