//! Pure consent rules shared by the server and the WASM bundle: no I/O here.

pub mod category;
pub mod date;
pub mod decision;
pub mod identifier;
pub mod language;
pub mod policy;
pub mod prompt;

pub use category::CategoryId;
pub use decision::{
    ConsentAction, ConsentRequest, ConsentSource, ConsentStatus, CurrentConsent, Decision,
    DecisionError, RecordedChoice, StorageKey,
};
pub use identifier::{Identifier, IdentifierKind, Lifetime};
pub use policy::{CategoryView, IdentifierView, Policy, PolicyVersion, PolicyView};
pub use prompt::{ExpiryRules, PromptReason, PublishedVersion, prompt_reason};
