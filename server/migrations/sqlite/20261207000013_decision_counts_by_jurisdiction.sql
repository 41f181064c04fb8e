-- The console splits decisions by jurisdiction and regime too (issue 29 §6): decision_counts
-- gains both as properties of its rows, part of the key, and decision_tallies gains the two
-- dimensions ('jurisdiction', 'regime'). `jurisdiction` is the policy's jurisdiction name as
-- recorded with the decision ('default' for a country the policy does not list), '' for a
-- decision recorded before jurisdictions existed; `regime` is opt_in, opt_out or notice (opt_in
-- for those older decisions: the only regime there was). Rows counted before this migration
-- are all of older decisions (migration 12 ships with this one), so they take '' and opt_in.
-- Still no visitor in them: rows live `statistics_days` ([retention]), then the purge deletes
-- them, as before.
CREATE TABLE decision_counts_new (
    day            TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    origin         TEXT NOT NULL,
    language       TEXT NOT NULL,
    terminal_type  TEXT NOT NULL,
    action         TEXT NOT NULL,
    source         TEXT NOT NULL,
    granted        TEXT NOT NULL,
    jurisdiction   TEXT NOT NULL,
    regime         TEXT NOT NULL CHECK (regime IN ('opt_in', 'opt_out', 'notice')),
    decisions      INTEGER NOT NULL,
    PRIMARY KEY (day, policy_version, origin, language, terminal_type, action, source, granted,
                 jurisdiction, regime)
);
INSERT INTO decision_counts_new
SELECT day, policy_version, origin, language, terminal_type, action, source, granted, '',
       'opt_in', decisions
FROM decision_counts;
DROP TABLE decision_counts;
ALTER TABLE decision_counts_new RENAME TO decision_counts;

-- The days counted so far, in the two new dimensions.
WITH dimensions (dimension) AS (
    VALUES ('jurisdiction'), ('regime')
), marginals AS (
    SELECT c.day, d.dimension,
           CASE d.dimension WHEN 'jurisdiction' THEN c.jurisdiction ELSE c.regime END AS value,
           c.action, c.granted, c.decisions
    FROM decision_counts c CROSS JOIN dimensions d
)
INSERT INTO decision_tallies (day, dimension, value, kind, name, decisions)
SELECT m.day, m.dimension, m.value, 'action', m.action, SUM(m.decisions)
FROM marginals m
GROUP BY m.day, m.dimension, m.value, m.action
UNION ALL
SELECT m.day, m.dimension, m.value, 'granted', g.value, SUM(m.decisions)
FROM marginals m, json_each('["' || replace(m.granted, ',', '","') || '"]') g
WHERE g.value <> ''
GROUP BY m.day, m.dimension, m.value, g.value;
