//! Pure consent rules shared by the server and the WASM bundle: no I/O here.

pub mod category;
pub mod decision;
pub mod policy;

pub use category::CategoryId;
pub use decision::{
    ConsentAction, ConsentRequest, ConsentSource, ConsentStatus, CurrentConsent, Decision,
    DecisionError,
};
pub use policy::{CategoryView, Policy, PolicyVersion, PolicyView};
