-- The tracker audit's stored scans (`server scan --record`, docs/tracker-audit.md): what ZecCloud
-- pages set and contacted in three browser profiles, against the registry. No row holds a
-- visitor's data: the scanner's own fresh browser profiles, cookie names and hosts, never a
-- cookie's value. Kept as long as the console's statistics (`retention.statistics_days`), then
-- purged; nothing here is exported or erased with a visitor's data.
CREATE TABLE tracker_scans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    start_urls  TEXT NOT NULL,
    pages       INTEGER NOT NULL,
    violations  INTEGER NOT NULL,
    -- The whole report as `server scan --json` writes it.
    report      TEXT NOT NULL
);
CREATE INDEX tracker_scans_by_time ON tracker_scans (finished_at);
