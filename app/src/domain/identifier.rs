//! The identifier registry of notice §06: every cookie and storage key ZecCloud uses, listed
//! under the consent category that allows it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where a browser keeps the identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    Cookie,
    LocalStorage,
    SessionStorage,
}

impl IdentifierKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cookie => "cookie",
            Self::LocalStorage => "local_storage",
            Self::SessionStorage => "session_storage",
        }
    }
}

/// How long an identifier lives: `session`, or a count and a unit (`30min`, `12h`, `365d`,
/// `13mo`, `30y`), as the policy file writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Lifetime {
    Session,
    Minutes(u32),
    Hours(u32),
    Days(u32),
    Months(u32),
    Years(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {0:?}: use \"session\" or a number with min, h, d, mo or y (e.g. \"13mo\")"
)]
pub struct InvalidLifetime(pub String);

impl Lifetime {
    pub fn parse(raw: &str) -> Result<Self, InvalidLifetime> {
        if raw == "session" {
            return Ok(Self::Session);
        }
        let split = raw
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| InvalidLifetime(raw.to_owned()))?;
        let (count, unit) = raw.split_at(split);
        let count: u32 = count
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| InvalidLifetime(raw.to_owned()))?;
        match unit {
            "min" => Ok(Self::Minutes(count)),
            "h" => Ok(Self::Hours(count)),
            "d" => Ok(Self::Days(count)),
            "mo" => Ok(Self::Months(count)),
            "y" => Ok(Self::Years(count)),
            _ => Err(InvalidLifetime(raw.to_owned())),
        }
    }

    /// How the registry table says it, e.g. "13 months", "13 个月", "13か月".
    pub fn describe(self, language: &str) -> String {
        let (count, unit) = match self {
            Self::Session => {
                return match language {
                    "zh-Hans" => "浏览器关闭时",
                    "zh-Hant" => "瀏覽器關閉時",
                    "ja" => "ブラウザーを閉じるまで",
                    "ko" => "브라우저를 닫을 때까지",
                    _ => "Until the browser is closed",
                }
                .to_owned();
            }
            Self::Minutes(n) => (n, 0),
            Self::Hours(n) => (n, 1),
            Self::Days(n) => (n, 2),
            Self::Months(n) => (n, 3),
            Self::Years(n) => (n, 4),
        };
        let units: [&str; 5] = match language {
            "zh-Hans" => [" 分钟", " 小时", " 天", " 个月", " 年"],
            "zh-Hant" => [" 分鐘", " 小時", " 天", " 個月", " 年"],
            "ja" => ["分", "時間", "日", "か月", "年"],
            "ko" => ["분", "시간", "일", "개월", "년"],
            _ => {
                let unit = ["minute", "hour", "day", "month", "year"][unit];
                let plural = if count == 1 { "" } else { "s" };
                return format!("{count} {unit}{plural}");
            }
        };
        format!("{count}{}", units[unit])
    }
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Session => f.write_str("session"),
            Self::Minutes(n) => write!(f, "{n}min"),
            Self::Hours(n) => write!(f, "{n}h"),
            Self::Days(n) => write!(f, "{n}d"),
            Self::Months(n) => write!(f, "{n}mo"),
            Self::Years(n) => write!(f, "{n}y"),
        }
    }
}

impl TryFrom<String> for Lifetime {
    type Error = InvalidLifetime;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Lifetime> for String {
    fn from(value: Lifetime) -> Self {
        value.to_string()
    }
}

/// The domain an identifier is stored for.
pub const HOST_ONLY: &str = "host";
/// The shared parent domain of all ZecCloud sites (the service's `cookie_domain`).
pub const PARENT_DOMAIN: &str = "parent";

/// One identifier of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identifier {
    /// The exact name, or a prefix followed by `*` for names with a variable tail
    /// (Matomo's `_pk_id.1.a4f2` is listed as `_pk_id.*`).
    pub name: String,
    pub kind: IdentifierKind,
    pub provider: String,
    pub duration: Lifetime,
    /// `host` (only the site that sets it), `parent` (the shared parent domain), or a domain.
    pub domain: String,
    #[serde(default = "root_path")]
    pub path: String,
    /// Whether anyone besides ZecCloud can read it.
    pub third_party_access: bool,
    /// What it is for, keyed by language tag.
    pub purpose: BTreeMap<String, String>,
}

fn root_path() -> String {
    "/".to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid identifier name {0:?}: use cookie-name characters, with at most one '*' at the end"
)]
pub struct InvalidIdentifierName(pub String);

impl Identifier {
    /// Names travel in `Set-Cookie` headers: RFC 6265 token characters, `*` only at the end.
    pub fn check_name(&self) -> Result<(), InvalidIdentifierName> {
        let stem = self.name.strip_suffix('*').unwrap_or(&self.name);
        let valid = !stem.is_empty()
            && self.name.len() <= 128
            && stem.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(
                        c,
                        '!' | '#'
                            | '$'
                            | '%'
                            | '&'
                            | '\''
                            | '+'
                            | '-'
                            | '.'
                            | '^'
                            | '_'
                            | '`'
                            | '|'
                            | '~'
                    )
            });
        if valid {
            Ok(())
        } else {
            Err(InvalidIdentifierName(self.name.clone()))
        }
    }

    pub fn is_pattern(&self) -> bool {
        self.name.ends_with('*')
    }

    /// Whether a concrete cookie or storage key is this identifier.
    pub fn matches(&self, name: &str) -> bool {
        match self.name.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == self.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identifier(name: &str) -> Identifier {
        Identifier {
            name: name.to_owned(),
            kind: IdentifierKind::Cookie,
            provider: "ZecCloud".into(),
            duration: Lifetime::Months(13),
            domain: PARENT_DOMAIN.into(),
            path: root_path(),
            third_party_access: false,
            purpose: BTreeMap::from([("en".into(), "test".into())]),
        }
    }

    #[test]
    fn lifetimes_parse_and_print_back() {
        for raw in ["session", "30min", "12h", "365d", "13mo", "30y"] {
            assert_eq!(Lifetime::parse(raw).unwrap().to_string(), raw);
        }
        for bad in ["", "13", "mo", "0d", "13 months", "-1d", "5w"] {
            assert!(Lifetime::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Lifetime::Months(13).describe("en"), "13 months");
        assert_eq!(Lifetime::Minutes(1).describe("en"), "1 minute");
        assert_eq!(Lifetime::Months(13).describe("zh-Hans"), "13 个月");
        assert_eq!(Lifetime::Months(13).describe("ja"), "13か月");
        assert_eq!(Lifetime::Minutes(30).describe("ko"), "30분");
        assert_eq!(
            Lifetime::Session.describe("fr"),
            "Until the browser is closed"
        );
    }

    #[test]
    fn patterns_match_prefixes_exact_names_match_exactly() {
        let pattern = identifier("_pk_id.*");
        assert!(pattern.is_pattern());
        assert!(pattern.matches("_pk_id.1.a4f2"));
        assert!(!pattern.matches("_pk_ses.1.a4f2"));
        let exact = identifier("mtm_consent");
        assert!(exact.matches("mtm_consent"));
        assert!(!exact.matches("mtm_consent_removed"));
    }

    #[test]
    fn names_must_be_cookie_tokens() {
        assert!(identifier("_pk_ref.*").check_name().is_ok());
        assert!(identifier("zc.lang").check_name().is_ok());
        for bad in ["", "*", "a b", "a;b", "a*b", "a=b"] {
            assert!(identifier(bad).check_name().is_err(), "{bad:?}");
        }
    }
}
