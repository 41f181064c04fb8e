-- The console splits decisions by jurisdiction and regime too (issue 29 §6): decision_counts
-- gains both as properties of its rows, part of the key, and decision_tallies gains the two
-- dimensions ('jurisdiction', 'regime'). `jurisdiction` is the policy's jurisdiction name as
-- recorded with the decision ('default' for a country the policy does not list), '' for a
-- decision recorded before jurisdictions existed; `regime` is opt_in, opt_out or notice (opt_in
-- for those older decisions: the only regime there was). Rows counted before this migration
-- are all of older decisions (migration 12 ships with this one), so they take '' and opt_in.
-- Still no visitor in them: rows live `statistics_days` ([retention]), then the purge deletes
-- them, as before.
ALTER TABLE decision_counts ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT '';
ALTER TABLE decision_counts ADD COLUMN regime TEXT NOT NULL DEFAULT 'opt_in'
    CHECK (regime IN ('opt_in', 'opt_out', 'notice'));
-- Every writer names both: the defaults were only for the rows already there.
ALTER TABLE decision_counts ALTER COLUMN jurisdiction DROP DEFAULT;
ALTER TABLE decision_counts ALTER COLUMN regime DROP DEFAULT;
ALTER TABLE decision_counts DROP CONSTRAINT decision_counts_pkey;
ALTER TABLE decision_counts ADD PRIMARY KEY
    (day, policy_version, origin, language, terminal_type, action, source, granted,
     jurisdiction, regime);

-- The days counted so far, in the two new dimensions.
INSERT INTO decision_tallies (day, dimension, value, kind, name, decisions)
SELECT c.day, d.dimension, d.value, 'action', c.action, SUM(c.decisions)
FROM decision_counts c
CROSS JOIN LATERAL (VALUES ('jurisdiction', c.jurisdiction), ('regime', c.regime))
    AS d (dimension, value)
GROUP BY c.day, d.dimension, d.value, c.action
UNION ALL
SELECT c.day, d.dimension, d.value, 'granted', g.category, SUM(c.decisions)
FROM decision_counts c
CROSS JOIN LATERAL (VALUES ('jurisdiction', c.jurisdiction), ('regime', c.regime))
    AS d (dimension, value)
CROSS JOIN LATERAL unnest(string_to_array(c.granted, ',')) AS g (category)
WHERE g.category <> ''
GROUP BY c.day, d.dimension, d.value, g.category;
