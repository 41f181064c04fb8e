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
    decisions INTEGER NOT NULL,
    PRIMARY KEY (day, dimension, value, kind, name)
);

-- The days counted so far, from their counts.
WITH dimensions (dimension) AS (
    VALUES ('policy_version'), ('origin'), ('language'), ('terminal_type')
), marginals AS (
    SELECT c.day, d.dimension,
           CASE d.dimension WHEN 'policy_version' THEN c.policy_version
                            WHEN 'origin' THEN c.origin
                            WHEN 'language' THEN c.language
                            ELSE c.terminal_type END AS value,
           c.action, c.granted, c.decisions
    FROM decision_counts c CROSS JOIN dimensions d
)
INSERT INTO decision_tallies (day, dimension, value, kind, name, decisions)
SELECT m.day, m.dimension, m.value, 'action', m.action, SUM(m.decisions)
FROM marginals m
GROUP BY m.day, m.dimension, m.value, m.action
UNION ALL
-- Category names are letters, digits and '_': the granted list is a JSON array once quoted.
SELECT m.day, m.dimension, m.value, 'granted', g.value, SUM(m.decisions)
FROM marginals m, json_each('["' || replace(m.granted, ',', '","') || '"]') g
WHERE g.value <> ''
GROUP BY m.day, m.dimension, m.value, g.value;
