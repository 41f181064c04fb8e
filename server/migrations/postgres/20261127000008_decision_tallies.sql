-- The overview's tallies: per UTC day (YYYY-MM-DD) and value of each dimension the console
-- splits decisions by (`dimension`: policy_version, origin, language or terminal_type, as the
-- decision_counts columns; `value` as stored there, origin '' for the service's own pages), the
-- decisions taking each action (`kind` 'action', `name` the action) and those granting each
-- category (`kind` 'granted', `name` the category). They are decision_counts summed over
-- everything else, incremented in the same transaction (the same group commit), so they equal
-- the counts; the overview reads them because a day has about as many whatever its traffic
-- (about 120 rows at ten million decisions, against about 1,200 combinations). Counts name no
-- visitor: erasure leaves them, the access export has nothing of a visitor's in them; rows live
-- `statistics_days` ([retention]), like decision_counts, then the purge deletes them.
CREATE TABLE decision_tallies (
    day       TEXT NOT NULL,
    dimension TEXT NOT NULL,
    value     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    decisions BIGINT NOT NULL,
    PRIMARY KEY (day, dimension, value, kind, name)
);

-- The days counted so far, from their counts.
INSERT INTO decision_tallies (day, dimension, value, kind, name, decisions)
SELECT c.day, d.dimension, d.value, 'action', c.action, SUM(c.decisions)
FROM decision_counts c
CROSS JOIN LATERAL (VALUES ('policy_version', c.policy_version), ('origin', c.origin),
                           ('language', c.language), ('terminal_type', c.terminal_type))
    AS d (dimension, value)
GROUP BY c.day, d.dimension, d.value, c.action
UNION ALL
SELECT c.day, d.dimension, d.value, 'granted', g.category, SUM(c.decisions)
FROM decision_counts c
CROSS JOIN LATERAL (VALUES ('policy_version', c.policy_version), ('origin', c.origin),
                           ('language', c.language), ('terminal_type', c.terminal_type))
    AS d (dimension, value)
CROSS JOIN LATERAL unnest(string_to_array(c.granted, ',')) AS g (category)
WHERE g.category <> ''
GROUP BY c.day, d.dimension, d.value, g.category;
