//! The operator console (`/admin`): English only, rendered on the server from one
//! [`ConsolePage`]: links, plain forms and SVG charts drawn by the server. Nothing in it needs
//! a script, so none is sent, and the visitors' WASM carries none of the console's code.
//!
//! One file per page (`sign_in`, `overview`, `proof`, `export`, `policies`, `operations`,
//! `log`, `identifiers`), the document around them (`shell`), what several pages show (`parts`) and what they
//! show it from (`model`).

mod export;
mod identifiers;
mod log;
mod model;
mod operations;
mod overview;
mod parts;
mod policies;
mod proof;
mod shell;
mod sign_in;

pub use model::{
    Chart, ConsolePage, CounterTable, DimensionTable, DimensionValue, ErasureJobRow,
    IdentifiersPage, LogHeadRow, LogKeyRow, LogPage, LogVerificationRow, Notice, OperationsPage,
    Overview, PendingPublish, PoliciesPage, PolicyChange, PolicyDiff, ProofEvent, ProofOutcome,
    ScanFindingRow, ScanPage, ScanRow, ScannedPage, UndeclaredFinding, VersionRow,
};
pub use parts::action_label;
pub use shell::{ConsoleApp, console_document};

/// Where the console lives; its session cookie is scoped to this path.
pub const CONSOLE_PATH: &str = "/admin";
pub const SIGN_IN_PATH: &str = "/admin/sign-in";
pub const SIGN_OUT_PATH: &str = "/admin/sign-out";
pub const PROOF_PATH: &str = "/admin/proof";
pub const EXPORT_PATH: &str = "/admin/export";
pub const POLICIES_PATH: &str = "/admin/policies";
pub const OPERATIONS_PATH: &str = "/admin/operations";
pub const POLICY_PREVIEW_PATH: &str = "/admin/policies/preview";
pub const POLICY_PUBLISH_PATH: &str = "/admin/policies/publish";
pub const LOG_PATH: &str = "/admin/log";
pub const LOG_VERIFY_PATH: &str = "/admin/log/verify";
pub const IDENTIFIERS_PATH: &str = "/admin/identifiers";
/// A stored tracker scan is `SCANS_PATH/{id}`.
pub const SCANS_PATH: &str = "/admin/scans";
/// `?kind=…&name=…`: a registry entry to start from for one undeclared identifier.
pub const IDENTIFIER_DRAFT_PATH: &str = "/admin/identifiers/draft";

/// Every page the console shows a signed-in operator, for the tests that walk them all.
pub const CONSOLE_PAGE_PATHS: [&str; 7] = [
    CONSOLE_PATH,
    PROOF_PATH,
    EXPORT_PATH,
    POLICIES_PATH,
    OPERATIONS_PATH,
    LOG_PATH,
    IDENTIFIERS_PATH,
];
