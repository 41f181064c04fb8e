-- The operator console's statistics: decisions per UTC day (YYYY-MM-DD), counted by everything
-- the console splits them by. One row per combination seen that day, incremented in the same
-- transaction as the decision, so the charts equal the events behind them and answer without
-- reading the events. `origin` is '' for the service's own pages; `granted` lists the granted
-- categories, sorted, comma-separated. Counts name no visitor: erasure leaves them, the access
-- export has nothing of a visitor's in them; rows live `statistics_days` ([retention]), then
-- the purge deletes them.
CREATE TABLE decision_counts (
    day            TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    origin         TEXT NOT NULL,
    language       TEXT NOT NULL,
    terminal_type  TEXT NOT NULL,
    action         TEXT NOT NULL,
    source         TEXT NOT NULL,
    granted        TEXT NOT NULL,
    decisions      BIGINT NOT NULL,
    PRIMARY KEY (day, policy_version, origin, language, terminal_type, action, source, granted)
);

INSERT INTO decision_counts
SELECT to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), e.policy_version,
       COALESCE(e.origin, ''), e.language, e.ua_class, e.action, e.source,
       COALESCE((SELECT string_agg(key, ',' ORDER BY key COLLATE "C")
                 FROM jsonb_each(e.categories) WHERE value = 'true'::jsonb), ''),
       COUNT(*)
FROM consent_events e
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

-- The audit export reads decisions by time, in pages.
CREATE INDEX consent_events_by_time ON consent_events (created_at, id);
