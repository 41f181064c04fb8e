-- Passive reports of undeclared identifiers (issue 31): the embed loader, sampled, sends the
-- names of the cookies and storage keys it finds on an embedding page that no still-valid
-- policy version declares, and the service counts them here per day (UTC, YYYY-MM-DD),
-- embedding origin, kind, name and the choice in force on that page (none, accepted, rejected,
-- custom). Why no visitor is in it: a report carries no cookie (the loader sends it without
-- credentials), no SSAID, no address and never a value, only names the registry could list;
-- so nothing here is linked to a person, and access and erasure requests have nothing to
-- find. Rows live `observations_days` ([retention]) after their day, then the purge deletes
-- them.
CREATE TABLE undeclared_identifiers (
    day        TEXT NOT NULL,
    origin     TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('cookie', 'local_storage', 'session_storage')),
    name       TEXT NOT NULL,
    choice     TEXT NOT NULL CHECK (choice IN ('none', 'accepted', 'rejected', 'custom')),
    reports    BIGINT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (day, origin, kind, name, choice)
);
