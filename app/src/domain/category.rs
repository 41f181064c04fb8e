use serde::{Deserialize, Serialize};

/// The name of a consent category (`necessary`, `preferences`, `analytics`, …).
///
/// Lower-case ASCII letters, digits and `_`, starting with a letter, at most 32 bytes, so a name
/// is safe in cookies, form field names, CSS classes and SQL JSON paths alike.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryId(String);

/// The category every policy must have: always on, cannot be refused.
pub const NECESSARY: &str = "necessary";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid category name {0:?}: use 1-32 lower-case letters, digits or '_', starting with a letter"
)]
pub struct InvalidCategoryId(pub String);

impl CategoryId {
    pub fn parse(raw: &str) -> Result<Self, InvalidCategoryId> {
        let valid = !raw.is_empty()
            && raw.len() <= 32
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidCategoryId(raw.to_owned()))
        }
    }

    pub fn is_necessary(&self) -> bool {
        self.0 == NECESSARY
    }
}

crate::text_newtype!(CategoryId, InvalidCategoryId, display);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        for name in ["necessary", "analytics", "a", "ads_v2"] {
            assert_eq!(CategoryId::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn rejects_unsafe_names() {
        let too_long = "a".repeat(33);
        for name in [
            "",
            "Analytics",
            "2fa",
            "_x",
            "a-b",
            "a b",
            "ä",
            too_long.as_str(),
        ] {
            assert!(
                CategoryId::parse(name).is_err(),
                "{name:?} should be rejected"
            );
        }
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<CategoryId>("\"ok_name\"").is_ok());
        assert!(serde_json::from_str::<CategoryId>("\"Bad\"").is_err());
    }
}
