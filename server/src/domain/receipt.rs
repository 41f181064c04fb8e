//! The consent receipt: one recorded decision as a machine-readable record shaped after
//! ISO/IEC TS 27560 (consent record information structure), ready to be signed.

use app::domain::jurisdiction::DEFAULT_JURISDICTION;
use app::domain::{ConsentAction, CountrySource, ExpiryRules, IdentifierKind, Policy, Regime};
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
    /// Where the decision was made and the regime that applied there.
    pub jurisdiction: ReceiptJurisdiction,
    /// Where this record is kept and for how long.
    pub record_storage: RecordStorage,
    /// The decision's leaf in the consent log; `None` while it is not logged.
    pub log: Option<ReceiptLogEntry>,
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

/// What a receipt holder needs to check by hand that the decision is in the signed log
/// (docs/verify-a-receipt.md): SHA-256(salt ‖ record) is the leaf's commitment, the leaf's hash
/// is SHA-256(0x00 ‖ leaf_data), and `inclusion` proves the leaf against a signed head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiptLogEntry {
    pub leaf_index: u64,
    /// Base64 of SHA-256(0x00 ‖ leaf_data).
    pub leaf_hash: String,
    /// The leaf's four lines.
    pub leaf_data: String,
    /// The canonical record the leaf commits to (compact JSON).
    pub record: String,
    /// Hex of the record's salt; `None` for a decision written before the log.
    pub salt: Option<String>,
    /// The inclusion proof against the latest signed head.
    pub inclusion: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Controller {
    pub name: String,
    pub contact: String,
    /// The controller's postal address (`controller_address`); `null` when the operator has
    /// not configured one.
    pub address: Option<String>,
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
    /// Who receives the data of this purpose: the providers of its identifiers, each once.
    pub recipients: Vec<String>,
    /// The data this purpose stores in the browser: each identifier with its kind.
    pub data_types: Vec<DataType>,
}

/// One identifier of a purpose as a data type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DataType {
    /// The identifier's name (`_pk_id.*`: a prefix and a variable tail).
    pub identifier: String,
    pub kind: IdentifierKind,
    /// How long it lives, as the policy writes it: `session`, or a count and a unit (`13mo`).
    #[schema(pattern = "^(session|[1-9][0-9]*(min|h|d|mo|y))$")]
    pub duration: String,
}

/// Where a decision was made, as recorded with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiptJurisdiction {
    /// The policy's jurisdiction, or `default` (a country it does not list, or none known).
    pub name: String,
    pub regime: Regime,
    /// The visitor's country or subdivision (ISO 3166), when known.
    #[schema(pattern = "^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
    pub country: Option<String>,
    pub country_source: CountrySource,
    /// `false` for decisions recorded before the service recorded jurisdictions: they were all
    /// made under opt-in, which is what the other fields then say (`default`, `opt_in`,
    /// no country, `unknown`).
    pub recorded: bool,
}

impl ReceiptJurisdiction {
    /// What a decision recorded before jurisdictions existed was made under: opt-in, the only
    /// regime there was.
    pub fn before_jurisdictions() -> Self {
        Self {
            name: DEFAULT_JURISDICTION.to_owned(),
            regime: Regime::OptIn,
            country: None,
            country_source: CountrySource::Unknown,
            recorded: false,
        }
    }
}

/// Where the consent record is stored and how long it is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordStorage {
    /// The ZecCloud data-center regions that hold the record (`record_locations`), ISO 3166-1.
    pub locations: Vec<String>,
    /// Days the record is kept after it stopped being the standing choice (superseded by a
    /// later decision, or expired): `[retention] proof_retention_days`.
    pub retention_days: u32,
    /// The retention rule in words.
    pub retention: String,
}

impl RecordStorage {
    pub fn new(locations: Vec<String>, retention_days: u32) -> Self {
        Self {
            retention: format!(
                "Kept while it is the standing choice, then {retention_days} days after a later \
                 decision superseded it or it expired: as long as the consent may have to be \
                 demonstrated. Erased with the subject on an erasure request."
            ),
            locations,
            retention_days,
        }
    }
}

/// What a recorded decision did to the consent, in the terms of ISO/IEC TS 27560's consent
/// events. Derived from the action, the regime and the visitor's previous decision
/// ([`event_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A first decision granting an optional purpose.
    Given,
    /// A first decision granting no optional purpose (under opt-in, a GPC signal is one).
    Refused,
    /// A decision granting no optional purpose after one that granted some.
    Withdrawn,
    /// Any other decision after an earlier one.
    Amended,
    /// The visitor acknowledged an opt-out or notice first layer: the regime's defaults stand.
    RegimeDefault,
    /// A Global Privacy Control signal where it is an opt-out (opt-out and notice regimes).
    GpcOptOut,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Given => "given",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
            Self::Amended => "amended",
            Self::RegimeDefault => "regime_default",
            Self::GpcOptOut => "gpc_opt_out",
        }
    }
}

/// A visitor's decision before the one a receipt is of.
pub struct PreviousDecision<'a> {
    /// The policy version it was made on.
    pub policy: &'a Policy,
    pub categories: &'a std::collections::BTreeMap<String, bool>,
    pub regime: Regime,
}

impl PreviousDecision<'_> {
    /// Whether it left any optional purpose granted: one it granted, or, where optional
    /// purposes are on until refused, one it did not decide on.
    pub fn granted_optional(&self) -> bool {
        grants_optional(self.policy, self.categories, self.regime)
    }
}

/// Whether `categories`, decided under `regime` on `policy`, grant an optional purpose.
pub fn grants_optional(
    policy: &Policy,
    categories: &std::collections::BTreeMap<String, bool>,
    regime: Regime,
) -> bool {
    policy
        .categories
        .iter()
        .filter(|category| !category.required())
        .any(|category| {
            categories
                .get(category.id.as_str())
                .copied()
                .unwrap_or(regime.on_until_refused())
        })
}

/// The event type of a decision taking `action` under `regime`, granting an optional purpose
/// or not (`grants_optional`), after a previous decision that granted one (`Some(true)`),
/// granted none (`Some(false)`), or none at all (`None`).
pub fn event_type(
    action: ConsentAction,
    regime: Regime,
    grants_optional: bool,
    previous_granted_optional: Option<bool>,
) -> EventType {
    match action {
        ConsentAction::Acknowledge => EventType::RegimeDefault,
        // Under opt-in nothing optional was on to opt out of: the signal is a refusal.
        ConsentAction::Gpc if regime.on_until_refused() => EventType::GpcOptOut,
        ConsentAction::Gpc => EventType::Refused,
        _ => match previous_granted_optional {
            Some(true) if !grants_optional => EventType::Withdrawn,
            Some(_) => EventType::Amended,
            None if grants_optional => EventType::Given,
            None => EventType::Refused,
        },
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventDetails {
    #[schema(value_type = app::domain::ConsentAction)]
    pub action: String,
    /// What the decision did to the consent (derived from the action, the regime and the
    /// visitor's previous decision).
    pub event_type: EventType,
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
    pub action: ConsentAction,
    pub source: &'a str,
    pub origin: Option<&'a str>,
    pub decided_at: DateTime<Utc>,
    /// When the visitor made the choice, if their page delivered it late.
    pub made_at: Option<DateTime<Utc>>,
    /// Whether a later decision of the same visitor exists.
    pub superseded: bool,
    /// The visitor's decision just before this one, if any.
    pub previous: Option<PreviousDecision<'a>>,
    pub jurisdiction: ReceiptJurisdiction,
    pub controller: Controller,
    pub record_storage: RecordStorage,
    pub log: Option<ReceiptLogEntry>,
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
                    recipients: recipients(
                        &category.identifiers,
                        input.language,
                        &input.policy.default_language,
                    ),
                    data_types: category
                        .identifiers
                        .iter()
                        .map(|identifier| DataType {
                            identifier: identifier.name.clone(),
                            kind: identifier.kind,
                            duration: identifier.duration.to_string(),
                        })
                        .collect(),
                }
            })
            .collect();
        let event_type = event_type(
            input.action,
            input.jurisdiction.regime,
            grants_optional(input.policy, input.categories, input.jurisdiction.regime),
            input
                .previous
                .as_ref()
                .map(PreviousDecision::granted_optional),
        );
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
                event_type,
                source: input.source.to_owned(),
                origin: input.origin.map(str::to_owned),
                time: rfc3339(input.decided_at),
                made_at: input.made_at.map(rfc3339),
            },
            jurisdiction: input.jurisdiction,
            record_storage: input.record_storage,
            log: input.log,
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

/// Who receives the data of one purpose: the recipients its identifiers' transmissions name
/// (Japan's external-transmission registry, in `language`, else the default one); for a
/// registry that names none (versions published before transmissions existed), the
/// identifiers' providers. Each once, in registry order.
fn recipients(
    identifiers: &[app::domain::Identifier],
    language: &str,
    default_language: &str,
) -> Vec<String> {
    let transmitted: Vec<&String> = identifiers
        .iter()
        .flat_map(|identifier| &identifier.transmissions)
        .filter_map(|transmission| {
            transmission
                .recipient
                .get(language)
                .or_else(|| transmission.recipient.get(default_language))
        })
        .collect();
    let named = if transmitted.is_empty() {
        identifiers
            .iter()
            .map(|identifier| &identifier.provider)
            .collect()
    } else {
        transmitted
    };
    let mut recipients: Vec<String> = Vec::new();
    for recipient in named {
        if !recipients.contains(recipient) {
            recipients.push(recipient.clone());
        }
    }
    recipients
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
            record_id: "0196a0b2-0000-7000-8000-0000000000aa".into(),
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
            previous: None,
            jurisdiction: ReceiptJurisdiction::before_jurisdictions(),
            log: None,
            controller: Controller {
                name: "ZecCloud".into(),
                contact: "ticket".into(),
                address: None,
            },
            record_storage: RecordStorage::new(vec!["JP".into()], 1095),
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
        // A first decision granting nothing optional, before jurisdictions: refused, opt-in.
        assert_eq!(receipt.event.event_type, EventType::Refused);
        assert_eq!(receipt.jurisdiction.regime, Regime::OptIn);
        assert!(!receipt.jurisdiction.recorded);
        assert_eq!(receipt.record_storage.retention_days, 1095);
    }

    #[test]
    fn without_transmissions_the_providers_are_the_recipients() {
        let policy = Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap();
        let analytics = policy.category("analytics").unwrap();
        let mut bare = analytics.identifiers.clone();
        bare.iter_mut()
            .for_each(|identifier| identifier.transmissions.clear());
        assert_eq!(
            recipients(&bare, "ja", "en"),
            ["Matomo, self-hosted by ZecCloud"]
        );
        // Named in the receipt's language when the registry has it.
        assert_ne!(
            recipients(&analytics.identifiers, "ja", "en"),
            recipients(&analytics.identifiers, "en", "en")
        );
    }

    #[test]
    fn purposes_name_their_recipients_and_data_types() {
        let receipt = receipt(&[("necessary", true), ("analytics", true)], false, 1);
        let necessary = &receipt.purposes[0];
        // The recipients the transmissions name, each once though several name it.
        assert_eq!(necessary.recipients, ["ZecCloud"]);
        assert_eq!(necessary.data_types.len(), necessary.identifiers.len());
        let preferences = &receipt.purposes[1];
        let storage = preferences
            .data_types
            .iter()
            .find(|data| data.identifier == "zc.lang")
            .unwrap();
        assert_eq!(storage.kind, IdentifierKind::LocalStorage);
        let analytics = &receipt.purposes[2];
        assert_eq!(
            analytics.recipients,
            ["ZecCloud (its self-hosted Matomo analytics)"]
        );
        assert!(
            analytics
                .data_types
                .iter()
                .any(|data| data.identifier == "_pk_id.*" && data.duration == "13mo")
        );
    }

    /// Every action, under each regime, first or after another decision, with a recorded
    /// jurisdiction or from before them: each receipt is valid against the published schema.
    #[test]
    fn receipts_are_valid_against_the_published_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/consent-receipt.schema.json"))
                .unwrap();
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let policy = Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap();
        let decided_at = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let expiry = ExpiryRules::from_days(365, 182);
        let all_on: BTreeMap<String, bool> = policy
            .categories
            .iter()
            .map(|category| (category.id.to_string(), true))
            .collect();
        let only_necessary: BTreeMap<String, bool> = BTreeMap::from([("necessary".into(), true)]);
        let place = |regime: Regime| ReceiptJurisdiction {
            name: "somewhere".into(),
            regime,
            country: Some("US-CA".into()),
            country_source: CountrySource::Header,
            recorded: true,
        };
        let mut event_types = std::collections::BTreeSet::new();
        for action in ConsentAction::ALL {
            for jurisdiction in [
                place(Regime::OptOut),
                place(Regime::Notice),
                place(Regime::OptIn),
                ReceiptJurisdiction::before_jurisdictions(),
            ] {
                for (previous, origin) in [(None, None), (Some(&all_on), Some("https://s.test"))] {
                    let receipt = ConsentReceipt::build(ReceiptInput {
                        log: None,
                        record_id: "0196a0b2-0000-7000-8000-000000000001".into(),
                        ssaid: "ssaid-1",
                        policy: &policy,
                        policy_hash: "sha256:abc",
                        language: "ja",
                        shown_text_hash: "sha256:def",
                        // What each action leaves granted: nothing optional for the refusals.
                        categories: match action {
                            ConsentAction::RejectAll
                            | ConsentAction::Withdraw
                            | ConsentAction::Gpc => &only_necessary,
                            _ => &all_on,
                        },
                        action,
                        source: "api",
                        origin,
                        decided_at,
                        made_at: origin.map(|_| decided_at),
                        superseded: previous.is_some(),
                        previous: previous.map(|categories| PreviousDecision {
                            policy: &policy,
                            categories,
                            regime: Regime::OptIn,
                        }),
                        jurisdiction: jurisdiction.clone(),
                        controller: Controller {
                            name: "ZecCloud".into(),
                            contact: "ticket".into(),
                            address: origin.map(|_| "1 Example Road, Hong Kong".into()),
                        },
                        record_storage: RecordStorage::new(vec!["HK".into(), "JP".into()], 1095),
                        notice_url: "https://consent.example/notice".into(),
                        preferences_url: "https://consent.example/preferences".into(),
                        expiry: &expiry,
                        now: decided_at,
                    });
                    event_types.insert(receipt.event.event_type.as_str());
                    let value = serde_json::to_value(&receipt).unwrap();
                    let errors: Vec<String> = validator
                        .iter_errors(&value)
                        .map(|error| format!("{}: {error}", error.instance_path()))
                        .collect();
                    assert!(errors.is_empty(), "{action} {jurisdiction:?}: {errors:#?}");
                }
            }
        }
        // Every event type was made, and the schema lists no other.
        let listed: std::collections::BTreeSet<&str> =
            schema["$defs"]["event"]["properties"]["event_type"]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .map(|value| value.as_str().unwrap())
                .collect();
        assert_eq!(event_types, listed);
        // And the schema refuses what it must: an unknown field, a jurisdiction not recorded
        // that claims a regime other than opt-in.
        let receipt = receipt(&[("necessary", true)], false, 1);
        let mut value = serde_json::to_value(&receipt).unwrap();
        assert!(validator.is_valid(&value));
        value["jurisdiction"]["regime"] = "opt_out".into();
        assert!(!validator.is_valid(&value));
        value["jurisdiction"]["regime"] = "opt_in".into();
        value["event"]["extra"] = 1.into();
        assert!(!validator.is_valid(&value));
    }

    #[test]
    fn event_types_follow_the_action_the_regime_and_the_previous_decision() {
        use ConsentAction::*;
        use EventType::*;
        let cases = [
            // (action, regime, grants optional, previous granted optional, expected)
            (AcceptAll, Regime::OptIn, true, None, Given),
            (Custom, Regime::OptIn, true, None, Given),
            (RejectAll, Regime::OptIn, false, None, Refused),
            (Custom, Regime::OptIn, false, None, Refused),
            (RejectAll, Regime::OptIn, false, Some(true), Withdrawn),
            (Withdraw, Regime::OptIn, false, Some(true), Withdrawn),
            (Custom, Regime::OptOut, false, Some(true), Withdrawn),
            (Withdraw, Regime::OptIn, false, Some(false), Amended),
            (RejectAll, Regime::OptIn, false, Some(false), Amended),
            (AcceptAll, Regime::OptIn, true, Some(false), Amended),
            (Custom, Regime::Notice, true, Some(true), Amended),
            (Acknowledge, Regime::OptOut, true, None, RegimeDefault),
            (Acknowledge, Regime::Notice, true, Some(true), RegimeDefault),
            (Gpc, Regime::OptOut, false, None, GpcOptOut),
            (Gpc, Regime::Notice, true, Some(true), GpcOptOut),
            (Gpc, Regime::OptIn, false, None, Refused),
        ];
        for (action, regime, grants, previous, expected) in cases {
            assert_eq!(
                event_type(action, regime, grants, previous),
                expected,
                "{action} under {regime}, previous {previous:?}"
            );
        }
    }

    #[test]
    fn undecided_purposes_are_granted_where_they_are_on_until_refused() {
        let policy = Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap();
        // What a GPC decision stores: the necessary category and those GPC refuses.
        let gpc: BTreeMap<String, bool> =
            BTreeMap::from([("necessary".into(), true), ("analytics".into(), false)]);
        assert!(!grants_optional(&policy, &gpc, Regime::OptIn));
        assert!(
            grants_optional(&policy, &gpc, Regime::OptOut),
            "preferences"
        );
        let refused: BTreeMap<String, bool> = BTreeMap::from([
            ("necessary".into(), true),
            ("preferences".into(), false),
            ("analytics".into(), false),
        ]);
        assert!(!grants_optional(&policy, &refused, Regime::Notice));
        let previous = PreviousDecision {
            policy: &policy,
            categories: &gpc,
            regime: Regime::OptOut,
        };
        assert!(previous.granted_optional());
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
