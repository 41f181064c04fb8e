//! A decision as the banner's HTML forms submit it: the server function (the service's own
//! pages, with or without JavaScript) and the embed endpoint read the same fields the same way.

use super::decision::{ConsentAction, ConsentRequest, MAX_DECISION_AGE_MS};
use super::policy::Policy;
use crate::ErrorCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The form fields. They are optional here so that a missing one is the client's error with
/// its reason, not a decoder failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionForm {
    pub policy_version: Option<String>,
    pub action: Option<String>,
    /// The ticked checkboxes: `categories[NAME]=on`.
    pub categories: Option<BTreeMap<String, String>>,
    /// The language the texts were shown in.
    pub language: Option<String>,
    /// Set by a page that delivers the choice late (see [`ConsentRequest::decided_ms_ago`]).
    pub decided_ms_ago: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("policy_version and action are required")]
    MissingField,
    #[error(
        "unknown action {0:?}: use accept_all, reject_all, custom, withdraw, gpc or acknowledge"
    )]
    InvalidAction(String),
    #[error("decided_ms_ago {0:?} is not a whole number of milliseconds up to an hour")]
    InvalidDecisionAge(String),
}

impl FormError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::MissingField => ErrorCode::MissingField,
            Self::InvalidAction(_) => ErrorCode::InvalidAction,
            Self::InvalidDecisionAge(_) => ErrorCode::InvalidDecisionAge,
        }
    }
}

impl DecisionForm {
    /// The decision the form asks for. For a custom choice, every optional category that is
    /// not ticked is refused, as the form showed it.
    pub fn into_request(self, policy: &Policy) -> Result<ConsentRequest, FormError> {
        let (Some(policy_version), Some(action)) = (self.policy_version, self.action) else {
            return Err(FormError::MissingField);
        };
        let action = ConsentAction::parse(&action).ok_or(FormError::InvalidAction(action))?;
        // An empty field is no age, as a form without the field.
        let decided_ms_ago = match self.decided_ms_ago.filter(|raw| !raw.is_empty()) {
            None => None,
            Some(raw) => Some(
                raw.parse::<u64>()
                    .ok()
                    .filter(|&age| age <= MAX_DECISION_AGE_MS)
                    .ok_or(FormError::InvalidDecisionAge(raw))?,
            ),
        };
        let ticked = self.categories.unwrap_or_default().into_keys().collect();
        let mut request = ConsentRequest::from_form(policy, policy_version, action, ticked);
        request.language = self.language;
        request.decided_ms_ago = decided_ms_ago;
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::tests::sample_policy;

    fn form(version: Option<&str>, action: Option<&str>, ticked: &[&str]) -> DecisionForm {
        DecisionForm {
            policy_version: version.map(str::to_owned),
            action: action.map(str::to_owned),
            categories: Some(
                ticked
                    .iter()
                    .map(|name| ((*name).to_owned(), "on".to_owned()))
                    .collect(),
            ),
            language: Some("ja".to_owned()),
            decided_ms_ago: None,
        }
    }

    #[test]
    fn unticked_optional_categories_are_refused() {
        let request = form(Some("2026-03-25"), Some("custom"), &["analytics"])
            .into_request(&sample_policy())
            .unwrap();
        assert_eq!(request.action, ConsentAction::Custom);
        assert_eq!(
            request.categories,
            Some(BTreeMap::from([
                ("analytics".to_owned(), true),
                ("preferences".to_owned(), false),
            ]))
        );
        assert_eq!(request.language.as_deref(), Some("ja"));
    }

    #[test]
    fn missing_fields_and_unknown_actions_are_refused() {
        let policy = sample_policy();
        assert_eq!(
            form(None, Some("custom"), &[]).into_request(&policy),
            Err(FormError::MissingField)
        );
        assert_eq!(
            form(Some("v"), None, &[]).into_request(&policy),
            Err(FormError::MissingField)
        );
        let err = form(Some("v"), Some("maybe"), &[])
            .into_request(&policy)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidAction);
    }

    #[test]
    fn a_late_choice_carries_its_age_and_a_bad_age_is_refused() {
        let policy = sample_policy();
        let with_age = |age: &str| DecisionForm {
            decided_ms_ago: Some(age.to_owned()),
            ..form(Some("2026-03-25"), Some("accept_all"), &[])
        };
        assert_eq!(
            with_age("4200")
                .into_request(&policy)
                .unwrap()
                .decided_ms_ago,
            Some(4200)
        );
        assert_eq!(
            with_age("").into_request(&policy).unwrap().decided_ms_ago,
            None
        );
        assert_eq!(
            with_age("3600000")
                .into_request(&policy)
                .unwrap()
                .decided_ms_ago,
            Some(MAX_DECISION_AGE_MS)
        );
        for bad in ["3600001", "-1", "1.5", "soon", "18446744073709551616"] {
            assert_eq!(
                with_age(bad).into_request(&policy),
                Err(FormError::InvalidDecisionAge(bad.to_owned())),
                "{bad}"
            );
        }
    }
}
