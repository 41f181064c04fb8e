//! The consent receipt: one recorded decision as a machine-readable record shaped after
//! ISO/IEC TS 27560 (consent record information structure), ready to be signed.

use app::domain::{ExpiryRules, Policy};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::claims::ISSUER;

pub const RECEIPT_SCHEMA: &str = "ISO/IEC TS 27560:2023 consent record (JSON)";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsentReceipt {
    pub schema: String,
    /// The consent record id (the event id).
    pub record_id: String,
    /// The PII principal, pseudonymous: the SSAID.
    pub pii_principal_id: String,
    pub controller: Controller,
    pub notice: NoticeShown,
    pub purposes: Vec<PurposeState>,
    pub event: EventDetails,
    /// `active`, `superseded` (a later decision replaced it) or `expired`.
    #[schema(pattern = "^(active|superseded|expired)$")]
    pub state: String,
    pub validity: Validity,
    pub withdrawal: Withdrawal,
    /// JWT-style claims, so the signed form is self-describing.
    pub iss: String,
    pub iat: i64,
    pub jti: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Controller {
    pub name: String,
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeShown {
    pub url: String,
    pub version: String,
    pub policy_hash: String,
    pub language: String,
    /// Hash of the exact banner text shown in that language.
    pub shown_text_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PurposeState {
    pub category: String,
    pub purpose: String,
    /// `consent`, or `strictly_necessary` for what the service cannot work without.
    #[schema(pattern = "^(consent|strictly_necessary)$")]
    pub lawful_basis: String,
    /// `granted`, `refused` or `undecided`.
    #[schema(pattern = "^(granted|refused|undecided)$")]
    pub state: String,
    pub identifiers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventDetails {
    #[schema(value_type = app::domain::ConsentAction)]
    pub action: String,
    #[schema(value_type = app::domain::ConsentSource)]
    pub source: String,
    /// The site the embedded banner ran on, for embed decisions.
    pub origin: Option<String>,
    /// When the decision was recorded.
    #[schema(format = DateTime)]
    pub time: String,
    /// When the visitor made the choice, if their page delivered it late (it retried while the
    /// service could not save it); absent when made at `time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub made_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Validity {
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub until: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Withdrawal {
    pub method: String,
    pub url: String,
}

/// Everything a receipt is built from; the caller reads it from storage.
pub struct ReceiptInput<'a> {
    pub record_id: String,
    pub ssaid: &'a str,
    /// The policy version the decision was made on, as published.
    pub policy: &'a Policy,
    pub policy_hash: &'a str,
    pub language: &'a str,
    pub shown_text_hash: &'a str,
    pub categories: &'a std::collections::BTreeMap<String, bool>,
    pub action: app::domain::ConsentAction,
    pub source: &'a str,
    pub origin: Option<&'a str>,
    pub decided_at: DateTime<Utc>,
    /// When the visitor made the choice, if their page delivered it late.
    pub made_at: Option<DateTime<Utc>>,
    /// Whether a later decision of the same visitor exists.
    pub superseded: bool,
    pub controller: Controller,
    /// Absolute URL of the notice and of the preference center.
    pub notice_url: String,
    pub preferences_url: String,
    pub expiry: &'a ExpiryRules,
    pub now: DateTime<Utc>,
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl ConsentReceipt {
    pub fn build(input: ReceiptInput<'_>) -> Self {
        let current = app::domain::CurrentConsent {
            policy_version: input.policy.version.to_string(),
            categories: input.categories.clone(),
            event_id: input.record_id.clone(),
            decided_at: input.decided_at.timestamp(),
            action: input.action,
        };
        let until = DateTime::from_timestamp(input.expiry.valid_until(input.policy, &current), 0)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let state = if input.superseded {
            "superseded"
        } else if input.now >= until {
            "expired"
        } else {
            "active"
        };
        let default_language = &input.policy.default_language;
        let purposes = input
            .policy
            .categories
            .iter()
            .map(|category| {
                let text = category
                    .text
                    .get(input.language)
                    .unwrap_or(&category.text[default_language]);
                let state = match current.state(category.id.as_str()) {
                    Some(true) => "granted",
                    Some(false) => "refused",
                    None => "undecided",
                };
                PurposeState {
                    category: category.id.to_string(),
                    purpose: text.description.clone(),
                    lawful_basis: if category.required() {
                        "strictly_necessary"
                    } else {
                        "consent"
                    }
                    .to_owned(),
                    state: state.to_owned(),
                    identifiers: category
                        .identifiers
                        .iter()
                        .map(|i| i.name.clone())
                        .collect(),
                }
            })
            .collect();
        Self {
            schema: RECEIPT_SCHEMA.to_owned(),
            record_id: input.record_id.clone(),
            pii_principal_id: input.ssaid.to_owned(),
            controller: input.controller,
            notice: NoticeShown {
                url: input.notice_url,
                version: input.policy.version.to_string(),
                policy_hash: input.policy_hash.to_owned(),
                language: input.language.to_owned(),
                shown_text_hash: input.shown_text_hash.to_owned(),
            },
            purposes,
            event: EventDetails {
                action: input.action.as_str().to_owned(),
                source: input.source.to_owned(),
                origin: input.origin.map(str::to_owned),
                time: rfc3339(input.decided_at),
                made_at: input.made_at.map(rfc3339),
            },
            state: state.to_owned(),
            validity: Validity {
                from: rfc3339(input.decided_at),
                until: rfc3339(until),
            },
            withdrawal: Withdrawal {
                method: "Open the preference center and choose \"Withdraw consent\": one click, as easy as giving it.".to_owned(),
                url: input.preferences_url,
            },
            iss: ISSUER.to_owned(),
            iat: input.now.timestamp(),
            jti: input.record_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::ConsentAction;
    use std::collections::BTreeMap;

    fn receipt(categories: &[(&str, bool)], superseded: bool, age_days: i64) -> ConsentReceipt {
        let policy = Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap();
        let categories: BTreeMap<String, bool> =
            categories.iter().map(|&(k, v)| (k.to_owned(), v)).collect();
        let decided_at = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let expiry = ExpiryRules::from_days(365, 182);
        ConsentReceipt::build(ReceiptInput {
            record_id: "0190-record".into(),
            ssaid: "ssaid-1",
            policy: &policy,
            policy_hash: "sha256:abc",
            language: "en",
            shown_text_hash: "sha256:def",
            categories: &categories,
            action: ConsentAction::Custom,
            source: "banner",
            origin: None,
            decided_at,
            made_at: None,
            superseded,
            controller: Controller {
                name: "ZecCloud".into(),
                contact: "ticket".into(),
            },
            notice_url: "https://consent.example/notice".into(),
            preferences_url: "https://consent.example/preferences".into(),
            expiry: &expiry,
            now: decided_at + chrono::TimeDelta::days(age_days),
        })
    }

    #[test]
    fn purposes_carry_each_state_and_basis() {
        let receipt = receipt(&[("necessary", true), ("analytics", false)], false, 1);
        let states: Vec<_> = receipt
            .purposes
            .iter()
            .map(|p| {
                (
                    p.category.as_str(),
                    p.state.as_str(),
                    p.lawful_basis.as_str(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                ("necessary", "granted", "strictly_necessary"),
                ("preferences", "undecided", "consent"),
                ("analytics", "refused", "consent"),
            ]
        );
        assert!(
            receipt.purposes[2]
                .identifiers
                .contains(&"_pk_id.*".to_owned())
        );
        assert_eq!(receipt.state, "active");
        assert_eq!(receipt.jti, receipt.record_id);
    }

    #[test]
    fn validity_follows_the_expiry_rules() {
        let refusal = receipt(
            &[
                ("necessary", true),
                ("preferences", false),
                ("analytics", false),
            ],
            false,
            1,
        );
        assert_eq!(refusal.validity.from, "2026-05-28T20:26:40Z");
        assert_eq!(refusal.validity.until, "2026-11-26T20:26:40Z", "182 days");
        let consent = receipt(
            &[
                ("necessary", true),
                ("preferences", true),
                ("analytics", true),
            ],
            false,
            200,
        );
        assert_eq!(consent.state, "active");
        assert_eq!(consent.validity.until, "2027-05-28T20:26:40Z", "365 days");
        let expired = receipt(&[("necessary", true), ("analytics", false)], false, 183);
        assert_eq!(expired.state, "expired");
        let superseded = receipt(&[("necessary", true)], true, 1);
        assert_eq!(superseded.state, "superseded");
    }
}
