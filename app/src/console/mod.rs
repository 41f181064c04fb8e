//! The operator console (`/admin`): English only, rendered on the server from one
//! [`ConsolePage`] and usable without JavaScript (links and plain forms); the browser reads the
//! same page back from the document to hydrate it.

mod model;
mod views;

pub use model::{
    Chart, ConsolePage, CounterTable, DimensionTable, DimensionValue, ErasureJobRow, Notice,
    OperationsPage, Overview, PendingPublish, PoliciesPage, PolicyChange, PolicyDiff, ProofEvent,
    ProofOutcome, VersionRow,
};
pub use views::{ConsoleApp, action_label, console_shell};

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
/// The id of the script element that carries the page's data for hydration.
pub const PAGE_DATA_ID: &str = "zc-console-page";

/// The page data in a form safe inside `<script type="application/json">`: no `<`, so no
/// `</script>` can end it early.
pub fn page_data_json(page: &ConsolePage) -> String {
    serde_json::to_string(page)
        .unwrap_or_default()
        .replace('<', "\\u003c")
}

/// The page data read back from the rendered document, for hydration.
#[cfg(feature = "hydrate")]
pub fn page_from_document() -> Option<ConsolePage> {
    let text = leptos::prelude::document()
        .get_element_by_id(PAGE_DATA_ID)?
        .text_content()?;
    serde_json::from_str(&text).ok()
}
