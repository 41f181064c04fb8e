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
    pub const ALL: [Self; 3] = [Self::Cookie, Self::LocalStorage, Self::SessionStorage];

    /// The kind `as_str` names.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

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
    /// What the visitor's browser sends along with it to a destination outside the page's own
    /// site, as Japan's Telecommunications Business Act asks to publish (Art. 27-12).
    /// Left out of the serialised policy when empty: the hash of a version published before
    /// transmissions existed is over that JSON, and must not change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transmissions: Vec<Transmission>,
}

fn root_path() -> String {
    "/".to_owned()
}

/// One external transmission (外部送信, Telecommunications Business Act Art. 27-12): what
/// information is sent, to whom and where, what for, and how to refuse it. Texts are keyed by
/// language tag, like every text of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transmission {
    /// The information sent.
    pub items: BTreeMap<String, String>,
    /// The name of whoever receives it.
    pub recipient: BTreeMap<String, String>,
    /// The host the browser sends it to, e.g. `matomo.zeccloud.com`.
    pub destination: String,
    /// What the recipient uses it for.
    pub purpose: BTreeMap<String, String>,
    /// How the visitor refuses it or opts out.
    pub refusal: BTreeMap<String, String>,
}

/// What is wrong with a transmission, for [`crate::domain::policy::PolicyError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransmissionProblem {
    #[error("its {0} has no text in the default language {1:?}")]
    MissingDefaultText(&'static str, String),
    #[error("its {0} is empty in {1:?}: leave a language out to fall back to the default instead")]
    EmptyText(&'static str, String),
    #[error(
        "its destination {0:?} is not a host name: write only the host, e.g. \"matomo.zeccloud.com\" (lower case, no scheme, port or path)"
    )]
    InvalidDestination(String),
}

impl Transmission {
    /// The texts, each with the name the policy file gives it.
    pub fn texts(&self) -> [(&'static str, &BTreeMap<String, String>); 4] {
        [
            ("items", &self.items),
            ("recipient", &self.recipient),
            ("purpose", &self.purpose),
            ("refusal", &self.refusal),
        ]
    }

    /// Every text in the default language, none empty, and a destination that is a host name:
    /// the page lists each transmission in every language, and a visitor must be able to tell
    /// where their data goes.
    pub fn check(&self, default_language: &str) -> Result<(), TransmissionProblem> {
        for (field, texts) in self.texts() {
            if !texts.contains_key(default_language) {
                return Err(TransmissionProblem::MissingDefaultText(
                    field,
                    default_language.to_owned(),
                ));
            }
            if let Some((language, _)) = texts.iter().find(|(_, text)| text.trim().is_empty()) {
                return Err(TransmissionProblem::EmptyText(field, language.clone()));
            }
        }
        if is_host_name(&self.destination) {
            Ok(())
        } else {
            Err(TransmissionProblem::InvalidDestination(
                self.destination.clone(),
            ))
        }
    }
}

/// A DNS host name as a visitor would read it in a URL: dot-separated labels of lower-case
/// letters, digits and inner hyphens (IDNs in their `xn--` form), at least two labels, the last
/// not all digits (so no IP address: a recipient is named by its host).
pub fn is_host_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    host.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a concrete cookie or storage key `name` is the declared one: an exact name, or a
/// prefix followed by `*` (`_pk_id.*` is `_pk_id.1.a4f2`).
pub fn name_matches(declared: &str, name: &str) -> bool {
    match declared.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == declared,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid identifier name {0:?}: use cookie-name characters, with at most one '*' at the end"
)]
pub struct InvalidIdentifierName(pub String);

/// Whether `c` may be part of a concrete identifier name: an RFC 6265 cookie-name token
/// character, `*` left out (the registry writes it at the end of a pattern only).
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '!' | '#' | '$' | '%' | '&' | '\'' | '+' | '-' | '.' | '^' | '_' | '`' | '|' | '~'
        )
}

impl Identifier {
    /// Names travel in `Set-Cookie` headers: RFC 6265 token characters, `*` only at the end.
    pub fn check_name(&self) -> Result<(), InvalidIdentifierName> {
        let stem = self.name.strip_suffix('*').unwrap_or(&self.name);
        let valid = !stem.is_empty() && self.name.len() <= 128 && stem.chars().all(is_name_char);
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
        name_matches(&self.name, name)
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
            transmissions: Vec::new(),
        }
    }

    fn transmission() -> Transmission {
        let text = |t: &str| BTreeMap::from([("en".to_owned(), t.to_owned())]);
        Transmission {
            items: text("A random visitor id"),
            recipient: text("ZecCloud"),
            destination: "matomo.zeccloud.com".into(),
            purpose: text("Measuring use"),
            refusal: text("Refuse analytics"),
        }
    }

    #[test]
    fn a_transmission_needs_every_text_in_the_default_language() {
        assert_eq!(transmission().check("en"), Ok(()));
        assert_eq!(
            transmission().check("ja"),
            Err(TransmissionProblem::MissingDefaultText(
                "items",
                "ja".into()
            ))
        );
        let mut no_refusal = transmission();
        no_refusal.refusal = BTreeMap::from([("ja".into(), "拒否".into())]);
        assert_eq!(
            no_refusal.check("en"),
            Err(TransmissionProblem::MissingDefaultText(
                "refusal",
                "en".into()
            ))
        );
    }

    #[test]
    fn a_transmission_text_is_never_empty_in_any_language() {
        let mut blank = transmission();
        blank.recipient.insert("ko".into(), " \n".into());
        assert_eq!(
            blank.check("en"),
            Err(TransmissionProblem::EmptyText("recipient", "ko".into()))
        );
        let mut empty_default = transmission();
        empty_default.purpose.insert("en".into(), String::new());
        assert_eq!(
            empty_default.check("en"),
            Err(TransmissionProblem::EmptyText("purpose", "en".into()))
        );
    }

    #[test]
    fn a_destination_is_a_host_name_and_nothing_else() {
        for good in [
            "matomo.zeccloud.com",
            "consent.zeccloud.com",
            "a-b.example",
            "xn--eckwd4c7c.xn--zckzah",
            "cdn1.example.co.jp",
        ] {
            assert!(is_host_name(good), "{good:?}");
        }
        for bad in [
            "",
            "localhost",
            "https://matomo.zeccloud.com",
            "matomo.zeccloud.com/matomo.php",
            "matomo.zeccloud.com:443",
            "Matomo.ZecCloud.com",
            "matomo..zeccloud.com",
            ".zeccloud.com",
            "zeccloud.com.",
            "-matomo.zeccloud.com",
            "matomo-.zeccloud.com",
            "matomo zeccloud.com",
            "192.0.2.1",
            "[2001:db8::1]",
            "*.zeccloud.com",
        ] {
            assert!(!is_host_name(bad), "{bad:?}");
        }
        assert!(is_host_name(&format!("{}.com", "a".repeat(63))));
        assert!(!is_host_name(&format!("{}.com", "a".repeat(64))));
        let mut url = transmission();
        url.destination = "https://matomo.zeccloud.com/".into();
        assert_eq!(
            url.check("en"),
            Err(TransmissionProblem::InvalidDestination(
                "https://matomo.zeccloud.com/".into()
            ))
        );
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
