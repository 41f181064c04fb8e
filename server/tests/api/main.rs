//! The black-box suite: the application spawned on port 0 and driven over HTTP, every
//! scenario against SQLite and PostgreSQL alike (`on_both_engines!`). One binary, so the
//! shared helpers compile once.

mod common;

mod assess;
mod audit;
mod clock;
mod consent;
mod console;
mod embed;
mod faults;
mod floods;
mod forgery;
mod group_commit;
mod headers;
mod jurisdictions;
mod keys;
mod log_independent;
mod log_proofs;
mod log_tamper;
mod matomo;
mod matomo_erasure;
mod observations;
mod openapi;
mod pages;
mod receipts;
mod regimes;
mod retention;
mod rights;
mod scans;
mod serving;
mod tallies;
mod transmissions;
mod trust;
