//! Passive reports of undeclared identifiers (issue 31): what an embedding page's loader may
//! report (names only, bounded) and what the service counts of it, per day, site, kind, name
//! and the choice in force. Pure; the registry check is the service's, the counts storage's.

use app::domain::IdentifierKind;
use app::domain::identifier::is_name_char;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The most names one report may carry: a page with more cookies and keys than this sends the
/// first ones, and the rest turn up in other page views' reports.
pub const MAX_NAMES_PER_REPORT: usize = 64;
/// The longest name reported: the registry's own limit.
pub const MAX_NAME_LENGTH: usize = 128;

/// The visitor's choice in force on the page when it reported, from the categories the loader
/// applies: none made yet, every optional category accepted, none, or some.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceInForce {
    None,
    Accepted,
    Rejected,
    Custom,
}

impl ChoiceInForce {
    pub const ALL: [Self; 4] = [Self::None, Self::Accepted, Self::Rejected, Self::Custom];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Custom => "custom",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|choice| choice.as_str() == raw)
    }
}

/// Why a report is refused. No message repeats a name: one that is not a cookie name may be
/// a value (`name=value`), which must not reach the logs either.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportProblem {
    #[error("a report names at least one identifier")]
    NoNames,
    #[error("a report names at most {MAX_NAMES_PER_REPORT} identifiers, not {0}")]
    TooManyNames(usize),
    #[error(
        "name {0} is not a cookie name (1 to {MAX_NAME_LENGTH} token characters, no '=', ';' or '*'): send names, never values"
    )]
    NotAName(usize),
}

/// Whether `name` is a concrete name the registry could declare: RFC 6265 token characters
/// (so never a value: no `=`, `;`, space or quote), at most [`MAX_NAME_LENGTH`].
pub fn is_reportable_name(name: &str) -> bool {
    (1..=MAX_NAME_LENGTH).contains(&name.len()) && name.chars().all(is_name_char)
}

/// The distinct names of a report, checked: at least one, at most [`MAX_NAMES_PER_REPORT`]
/// sent, each a cookie name (positions in messages count from 0). A name sent twice counts once.
pub fn checked_names<'a>(
    names: impl ExactSizeIterator<Item = (IdentifierKind, &'a str)>,
) -> Result<BTreeSet<(IdentifierKind, String)>, ReportProblem> {
    match names.len() {
        0 => return Err(ReportProblem::NoNames),
        sent if sent > MAX_NAMES_PER_REPORT => return Err(ReportProblem::TooManyNames(sent)),
        _ => {}
    }
    names
        .enumerate()
        .map(|(position, (kind, name))| {
            if is_reportable_name(name) {
                Ok((kind, name.to_owned()))
            } else {
                Err(ReportProblem::NotAName(position))
            }
        })
        .collect()
}

/// The undeclared names of one report, as counted: one more report of each on `day` from
/// `origin` under `choice`, seen `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedNames {
    pub day: NaiveDate,
    pub at: DateTime<Utc>,
    pub origin: String,
    pub choice: ChoiceInForce,
    /// Distinct, and none declared.
    pub names: Vec<(IdentifierKind, String)>,
}

/// One day's count of one name from one site under one choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationCount {
    pub day: NaiveDate,
    pub origin: String,
    pub kind: IdentifierKind,
    pub name: String,
    pub choice: ChoiceInForce,
    /// Reports that named it (each at most once per page view).
    pub reports: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies<'a>(
        names: &'a [&'a str],
    ) -> impl ExactSizeIterator<Item = (IdentifierKind, &'a str)> {
        names.iter().map(|name| (IdentifierKind::Cookie, *name))
    }

    #[test]
    fn names_are_cookie_name_tokens_never_values() {
        for name in ["ab_bucket", "_pk_id.1.a4f2", "__Host-x", "a!#$%&'+-.^_`|~z"] {
            assert!(is_reportable_name(name), "{name}");
        }
        let too_long = "n".repeat(MAX_NAME_LENGTH + 1);
        for name in [
            "",
            "ab_bucket=SECRET",
            "a;b",
            "a b",
            "\"quoted\"",
            "_pk_id.*",
            "ключ",
            too_long.as_str(),
        ] {
            assert!(!is_reportable_name(name), "{name}");
        }
        assert!(is_reportable_name(&"n".repeat(MAX_NAME_LENGTH)));
    }

    #[test]
    fn a_report_is_bounded_and_its_names_distinct() {
        let checked = checked_names(cookies(&["b", "a", "b"])).unwrap();
        assert_eq!(
            checked.into_iter().collect::<Vec<_>>(),
            [
                (IdentifierKind::Cookie, "a".to_owned()),
                (IdentifierKind::Cookie, "b".to_owned())
            ]
        );
        assert_eq!(checked_names(cookies(&[])), Err(ReportProblem::NoNames));
        let many: Vec<String> = (0..=MAX_NAMES_PER_REPORT)
            .map(|n| format!("n{n}"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            checked_names(cookies(&many)),
            Err(ReportProblem::TooManyNames(MAX_NAMES_PER_REPORT + 1))
        );
        assert_eq!(
            checked_names(cookies(&many[..MAX_NAMES_PER_REPORT])).map(|names| names.len()),
            Ok(MAX_NAMES_PER_REPORT)
        );
        let refused = checked_names(cookies(&["fine", "ab_bucket=SECRETVALUE123"])).unwrap_err();
        assert_eq!(refused, ReportProblem::NotAName(1));
        assert!(!refused.to_string().contains("SECRETVALUE123"));
    }

    #[test]
    fn choices_read_back_as_written() {
        for choice in ChoiceInForce::ALL {
            assert_eq!(ChoiceInForce::parse(choice.as_str()), Some(choice));
        }
        assert_eq!(ChoiceInForce::parse("accept_all"), None);
    }
}
