//! Pure consent rules shared by the server and the WASM bundle: no I/O here.

/// The conversions of a validated text newtype (`struct T(String)` with
/// `fn parse(&str) -> Result<T, E>`): `as_str`, `TryFrom<String>` through `parse` (serde's
/// `try_from = "String"`), `From<T> for String`, and with `display` also `Display`.
#[macro_export]
macro_rules! text_newtype {
    ($type:ident, $error:ty) => {
        impl $type {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $type {
            type Error = $error;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$type> for String {
            fn from(value: $type) -> Self {
                value.0
            }
        }
    };
    ($type:ident, $error:ty, display) => {
        $crate::text_newtype!($type, $error);

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub mod category;
pub mod date;
pub mod decision;
pub mod form;
pub mod identifier;
pub mod jurisdiction;
pub mod language;
pub mod my_data;
pub mod policy;
pub mod prompt;
pub mod refusal;
/// The parts of the API's description that derive cannot say (server only).
#[cfg(feature = "ssr")]
pub mod schema;

pub use category::CategoryId;
pub use decision::{
    ConsentAction, ConsentRequest, ConsentSource, CurrentConsent, Decision, DecisionError,
    RecordedChoice, StorageKey,
};
pub use form::{DecisionForm, FormError};
pub use identifier::{Identifier, IdentifierKind, Lifetime, Transmission};
pub use jurisdiction::{AppliedJurisdiction, CountrySource, Location, Regime, Region};
pub use policy::{
    BannerText, CategoryView, IdentifierView, Policy, PolicyVersion, PolicyView, TransmissionView,
};
pub use prompt::{
    ConsentStatus, ExpiryRules, PromptReason, PublishedVersion, consent_grants, prompt_reason,
    regime_grants,
};
pub use refusal::{CookieExpiry, Expiries, expiries};
