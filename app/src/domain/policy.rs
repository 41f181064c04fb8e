use super::category::{CategoryId, InvalidCategoryId, NECESSARY};
use super::identifier::{
    HOST_ONLY, Identifier, IdentifierKind, InvalidIdentifierName, PARENT_DOMAIN,
    TransmissionProblem,
};
use super::jurisdiction::{AppliedJurisdiction, Jurisdiction, Location, Regime, valid_name};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The identifier of a published policy version, e.g. `2026-03-25`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PolicyVersion(String);

impl PolicyVersion {
    /// 1-64 ASCII letters, digits, `.`, `_` or `-`: it travels in cookies and URLs.
    pub fn parse(raw: &str) -> Result<Self, PolicyError> {
        let valid = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(PolicyError::InvalidVersion(raw.to_owned()))
        }
    }
}

crate::text_newtype!(PolicyVersion, PolicyError, display);

/// The texts of the first layer of the banner, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BannerText {
    pub title: String,
    pub body: String,
    pub notice_link: String,
    pub accept_all: String,
    pub reject_all: String,
    pub customize: String,
    pub save: String,
    pub always_on: String,
    /// Shown above the banner when a material change to the notice asks the visitor again.
    pub notice_changed: String,
    /// Shown when the browser's Global Privacy Control signal refused categories for the visitor.
    pub gpc_honoured: String,
    /// The label of each category's list of identifiers.
    pub identifiers: String,
    // The first layer of the other regimes. Optional, and left out of the JSON when absent, so
    // that the hash of every version published before them is unchanged; `Policy::check`
    // requires them in the default language where a jurisdiction (or the default) uses them.
    /// `opt_out`: says the optional categories are on until the visitor opts out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out_body: Option<String>,
    /// `opt_out`: the button that refuses every optional category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out: Option<String>,
    /// `notice`: the information shown; nothing waits for the visitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_body: Option<String>,
    /// `opt_out` and `notice`: the button that takes note of the first layer ("OK").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge: Option<String>,
}

impl BannerText {
    /// The texts a regime's first layer needs beyond the opt-in ones, by field name.
    pub fn regime_texts(&self, regime: Regime) -> Vec<(&'static str, Option<&str>)> {
        match regime {
            Regime::OptIn => Vec::new(),
            Regime::OptOut => vec![
                ("opt_out_body", self.opt_out_body.as_deref()),
                ("opt_out", self.opt_out.as_deref()),
                ("acknowledge", self.acknowledge.as_deref()),
            ],
            Regime::Notice => vec![
                ("notice_body", self.notice_body.as_deref()),
                ("acknowledge", self.acknowledge.as_deref()),
            ],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryText {
    pub title: String,
    pub description: String,
    // Korea's collection details (PIPA Art. 15(2)), shown in the first layer where a
    // jurisdiction has `show_collection_details`. Optional and left out of the JSON when
    // absent, so the hash of every version published before them is unchanged.
    /// The items collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
    /// How long they are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
    /// The right to refuse, and any disadvantage of refusing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

impl CategoryText {
    /// The collection details by field name.
    pub fn collection_details(&self) -> [(&'static str, Option<&str>); 3] {
        [
            ("items", self.items.as_deref()),
            ("retention", self.retention.as_deref()),
            ("refusal", self.refusal.as_deref()),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: CategoryId,
    /// Texts keyed by language tag (`en`, `zh-Hans`, …).
    pub text: BTreeMap<String, CategoryText>,
    /// Whether a browser's Global Privacy Control signal refuses this category by default.
    #[serde(default)]
    pub refused_by_gpc: bool,
    /// Every cookie and storage key this category allows (notice §06).
    #[serde(default)]
    pub identifiers: Vec<Identifier>,
}

impl Category {
    /// Only `necessary` is required: a policy can never make an optional purpose mandatory.
    pub fn required(&self) -> bool {
        self.id.is_necessary()
    }
}

/// A consent policy: its version, the categories a visitor decides on, and their texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub version: PolicyVersion,
    pub notice_url: String,
    pub default_language: String,
    /// Banner texts keyed by language tag.
    pub banner: BTreeMap<String, BannerText>,
    pub categories: Vec<Category>,
    /// Where which regime applies (opt-in, opt-out, notice). Absent fields are left out of the
    /// hash's JSON, so versions published before jurisdictions existed keep their hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jurisdictions: Vec<Jurisdiction>,
    /// The regime of a visitor in no listed jurisdiction, or of unknown country: `opt_in`
    /// (the strictest) unless the policy says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_regime: Option<Regime>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("invalid policy version {0:?}: use 1-64 ASCII letters, digits, '.', '_' or '-'")]
    InvalidVersion(String),
    #[error(transparent)]
    InvalidCategory(#[from] InvalidCategoryId),
    #[error("category {0:?} is listed twice")]
    DuplicateCategory(String),
    #[error("the policy must list the category \"necessary\"")]
    MissingNecessary,
    #[error("the policy needs at least one optional category besides \"necessary\"")]
    NoOptionalCategory,
    #[error("{0} has no text in the default language {1:?}")]
    MissingDefaultText(String, String),
    #[error("policy file is not valid TOML for a policy: {0}")]
    Syntax(String),
    #[error(transparent)]
    InvalidIdentifier(#[from] InvalidIdentifierName),
    #[error("identifier {0:?} is listed twice")]
    DuplicateIdentifier(String),
    #[error("{0} has an empty text: leave a language out to fall back to the default instead")]
    EmptyText(String),
    #[error("category \"necessary\" cannot be refused by Global Privacy Control")]
    NecessaryRefusedByGpc,
    #[error(
        "jurisdiction name {0:?} is invalid: use 1-32 lower-case letters, digits or '_', not \"default\""
    )]
    InvalidJurisdictionName(String),
    #[error("jurisdiction {0:?} is listed twice")]
    DuplicateJurisdiction(String),
    #[error("jurisdiction {0:?} lists no country")]
    EmptyJurisdiction(String),
    #[error("{region} is listed by both jurisdiction {first:?} and {second:?}")]
    RegionInTwoJurisdictions {
        region: String,
        first: String,
        second: String,
    },
    /// `number` counts from 1, in the order the file lists the identifier's transmissions.
    #[error("identifier {identifier:?}, transmission {number}: {problem}")]
    InvalidTransmission {
        identifier: String,
        number: usize,
        problem: TransmissionProblem,
    },
    #[error(
        "the {regime} regime is used, but banner.{language} has no {field}: its first layer needs it"
    )]
    MissingRegimeText {
        regime: Regime,
        field: &'static str,
        language: String,
    },
    #[error(
        "jurisdiction {jurisdiction:?} shows collection details, but category {category:?} has no {field} in {language:?}"
    )]
    MissingCollectionDetails {
        jurisdiction: String,
        category: String,
        field: &'static str,
        language: String,
    },
}

impl Policy {
    /// Parses and checks a policy file.
    #[cfg(feature = "ssr")]
    pub fn from_toml(source: &str) -> Result<Self, PolicyError> {
        let policy: Policy =
            toml::from_str(source).map_err(|e| PolicyError::Syntax(e.message().to_owned()))?;
        policy.check()?;
        Ok(policy)
    }

    /// The rules a policy must satisfy beyond its shape.
    pub fn check(&self) -> Result<(), PolicyError> {
        let mut seen = BTreeSet::new();
        let mut identifiers = BTreeSet::new();
        for category in &self.categories {
            if !seen.insert(category.id.as_str()) {
                return Err(PolicyError::DuplicateCategory(category.id.to_string()));
            }
            if category.required() && category.refused_by_gpc {
                return Err(PolicyError::NecessaryRefusedByGpc);
            }
            for identifier in &category.identifiers {
                identifier.check_name()?;
                if !identifiers.insert((identifier.kind, identifier.name.as_str())) {
                    return Err(PolicyError::DuplicateIdentifier(identifier.name.clone()));
                }
                if !identifier.purpose.contains_key(&self.default_language) {
                    return Err(PolicyError::MissingDefaultText(
                        format!("identifier {:?}", identifier.name),
                        self.default_language.clone(),
                    ));
                }
                for (index, transmission) in identifier.transmissions.iter().enumerate() {
                    transmission
                        .check(&self.default_language)
                        .map_err(|problem| PolicyError::InvalidTransmission {
                            identifier: identifier.name.clone(),
                            number: index + 1,
                            problem,
                        })?;
                }
            }
            if !category.text.contains_key(&self.default_language) {
                return Err(PolicyError::MissingDefaultText(
                    format!("category {:?}", category.id.as_str()),
                    self.default_language.clone(),
                ));
            }
            for (language, text) in &category.text {
                if text
                    .collection_details()
                    .iter()
                    .flat_map(|(_, value)| *value)
                    .any(blank)
                {
                    return Err(PolicyError::EmptyText(format!(
                        "categories.{}.text.{language}",
                        category.id.as_str()
                    )));
                }
            }
        }
        if !seen.contains(NECESSARY) {
            return Err(PolicyError::MissingNecessary);
        }
        if seen.len() < 2 {
            return Err(PolicyError::NoOptionalCategory);
        }
        for (language, text) in &self.banner {
            let fields = [
                &text.title,
                &text.body,
                &text.notice_link,
                &text.accept_all,
                &text.reject_all,
                &text.customize,
                &text.save,
                &text.always_on,
                &text.notice_changed,
                &text.gpc_honoured,
                &text.identifiers,
            ];
            let optional = [
                &text.opt_out_body,
                &text.opt_out,
                &text.notice_body,
                &text.acknowledge,
            ];
            if fields.iter().any(|field| field.trim().is_empty())
                || optional
                    .iter()
                    .flat_map(|field| field.as_deref())
                    .any(blank)
            {
                return Err(PolicyError::EmptyText(format!("banner.{language}")));
            }
        }
        if !self.banner.contains_key(&self.default_language) {
            return Err(PolicyError::MissingDefaultText(
                "the banner".to_owned(),
                self.default_language.clone(),
            ));
        }
        self.check_jurisdictions()?;
        self.check_regime_texts()
    }

    /// Every regime the policy uses must have its first layer's texts in the default language,
    /// and a jurisdiction showing collection details needs them for every optional category:
    /// a visitor there would otherwise see a first layer the law does not accept.
    fn check_regime_texts(&self) -> Result<(), PolicyError> {
        let default_banner = &self.banner[&self.default_language];
        let regimes: BTreeSet<Regime> = self
            .jurisdictions
            .iter()
            .map(|jurisdiction| jurisdiction.regime)
            .chain([self.default_regime()])
            .collect();
        for regime in regimes {
            if let Some((field, _)) = default_banner
                .regime_texts(regime)
                .into_iter()
                .find(|(_, text)| text.is_none())
            {
                return Err(PolicyError::MissingRegimeText {
                    regime,
                    field,
                    language: self.default_language.clone(),
                });
            }
        }
        let detailed = self
            .jurisdictions
            .iter()
            .filter(|jurisdiction| jurisdiction.show_collection_details);
        for jurisdiction in detailed {
            for category in self.categories.iter().filter(|c| !c.required()) {
                let text = &category.text[&self.default_language];
                if let Some((field, _)) = text
                    .collection_details()
                    .into_iter()
                    .find(|(_, value)| value.is_none())
                {
                    return Err(PolicyError::MissingCollectionDetails {
                        jurisdiction: jurisdiction.name.clone(),
                        category: category.id.to_string(),
                        field,
                        language: self.default_language.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn check_jurisdictions(&self) -> Result<(), PolicyError> {
        let mut names = BTreeSet::new();
        let mut listed_by: BTreeMap<&str, &str> = BTreeMap::new();
        for jurisdiction in &self.jurisdictions {
            if !valid_name(&jurisdiction.name) {
                return Err(PolicyError::InvalidJurisdictionName(
                    jurisdiction.name.clone(),
                ));
            }
            if !names.insert(jurisdiction.name.as_str()) {
                return Err(PolicyError::DuplicateJurisdiction(
                    jurisdiction.name.clone(),
                ));
            }
            if jurisdiction.countries.is_empty() {
                return Err(PolicyError::EmptyJurisdiction(jurisdiction.name.clone()));
            }
            for region in &jurisdiction.countries {
                if let Some(first) = listed_by.insert(region.as_str(), &jurisdiction.name) {
                    return Err(PolicyError::RegionInTwoJurisdictions {
                        region: region.to_string(),
                        first: first.to_owned(),
                        second: jurisdiction.name.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The regime for a visitor in no listed jurisdiction: `opt_in` unless the policy says.
    pub fn default_regime(&self) -> Regime {
        self.default_regime.unwrap_or(Regime::OptIn)
    }

    /// The jurisdiction that applies at `location`.
    pub fn jurisdiction_for(&self, location: &Location) -> AppliedJurisdiction {
        super::jurisdiction::resolve(&self.jurisdictions, self.default_regime(), location)
    }

    /// The regime this policy applies to `jurisdiction` (by name; `default` and names it does
    /// not list get the default regime), with its countries: what a later version must keep
    /// for a decision made there to stay current.
    pub fn regime_of(&self, jurisdiction: &str) -> (Regime, Vec<String>) {
        match self.jurisdictions.iter().find(|j| j.name == jurisdiction) {
            Some(found) => (
                found.regime,
                found.countries.iter().map(ToString::to_string).collect(),
            ),
            None => (self.default_regime(), Vec::new()),
        }
    }

    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id.as_str() == id)
    }

    /// The policy resolved to one language, falling back to the default language. `parent_domain`
    /// is the shared cookie domain that `domain = "parent"` identifiers live on.
    pub fn view(&self, language: &str, parent_domain: Option<&str>) -> PolicyView {
        let banner_language = if self.banner.contains_key(language) {
            language.to_owned()
        } else {
            self.default_language.clone()
        };
        let localized = |texts: &BTreeMap<String, String>| {
            texts
                .get(language)
                .or_else(|| texts.get(&self.default_language))
                .cloned()
                .unwrap_or_default()
        };
        PolicyView {
            version: self.version.to_string(),
            notice_url: self.notice_url.clone(),
            language: banner_language.clone(),
            banner: self.banner_in(&banner_language),
            categories: self
                .categories
                .iter()
                .map(|category| {
                    let default = &category.text[&self.default_language];
                    let text = category.text.get(language).unwrap_or(default);
                    // Each detail falls back on its own: a translation may lack one.
                    let detail = |pick: fn(&CategoryText) -> &Option<String>| {
                        pick(text).clone().or_else(|| pick(default).clone())
                    };
                    CategoryView {
                        id: category.id.to_string(),
                        required: category.required(),
                        title: text.title.clone(),
                        description: text.description.clone(),
                        items: detail(|t| &t.items),
                        retention: detail(|t| &t.retention),
                        refusal: detail(|t| &t.refusal),
                        identifiers: category
                            .identifiers
                            .iter()
                            .map(|identifier| IdentifierView {
                                name: identifier.name.clone(),
                                kind: identifier.kind,
                                provider: identifier.provider.clone(),
                                purpose: localized(&identifier.purpose),
                                duration: identifier.duration.describe(&banner_language),
                                domain: describe_domain(
                                    &identifier.domain,
                                    parent_domain,
                                    &banner_language,
                                ),
                                third_party_access: identifier.third_party_access,
                                transmissions: identifier
                                    .transmissions
                                    .iter()
                                    .map(|transmission| TransmissionView {
                                        items: localized(&transmission.items),
                                        recipient: localized(&transmission.recipient),
                                        destination: transmission.destination.clone(),
                                        purpose: localized(&transmission.purpose),
                                        refusal: localized(&transmission.refusal),
                                    })
                                    .collect(),
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    /// The banner texts of `language` (one the policy has), each regime text the translation
    /// lacks taken from the default language: `check` only asks the default to have them.
    fn banner_in(&self, language: &str) -> BannerText {
        let mut text = self.banner[language].clone();
        let default = &self.banner[&self.default_language];
        let fill = |own: &mut Option<String>, fallback: &Option<String>| {
            if own.is_none() {
                own.clone_from(fallback);
            }
        };
        fill(&mut text.opt_out_body, &default.opt_out_body);
        fill(&mut text.opt_out, &default.opt_out);
        fill(&mut text.notice_body, &default.notice_body);
        fill(&mut text.acknowledge, &default.acknowledge);
        text
    }

    /// The identifiers of the given categories.
    pub fn identifiers_of<'a>(
        &'a self,
        categories: impl IntoIterator<Item = &'a str>,
    ) -> Vec<&'a Identifier> {
        let wanted: BTreeSet<&str> = categories.into_iter().collect();
        self.categories
            .iter()
            .filter(|category| wanted.contains(category.id.as_str()))
            .flat_map(|category| &category.identifiers)
            .collect()
    }
}

fn blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn describe_domain(domain: &str, parent_domain: Option<&str>, language: &str) -> String {
    let this_site = match language {
        "zh-Hans" => "仅本网站",
        "zh-Hant" => "僅本網站",
        "ja" => "このサイトのみ",
        "ko" => "이 사이트만",
        _ => "This site only",
    };
    match (domain, parent_domain) {
        (PARENT_DOMAIN, Some(parent)) => format!(".{}", parent.trim_start_matches('.')),
        (PARENT_DOMAIN, None) | (HOST_ONLY, _) => this_site.to_owned(),
        (other, _) => other.to_owned(),
    }
}

/// What the banner needs to render: the policy in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyView {
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")
    )]
    pub version: String,
    pub notice_url: String,
    pub language: String,
    pub banner: BannerText,
    pub categories: Vec<CategoryView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CategoryView {
    #[cfg_attr(feature = "ssr", schema(pattern = "^[a-z][a-z0-9_]{0,31}$"))]
    pub id: String,
    pub required: bool,
    pub title: String,
    pub description: String,
    /// The items collected (Korea's collection details; absent when the policy has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
    /// How long they are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
    /// The right to refuse, and any disadvantage of refusing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    pub identifiers: Vec<IdentifierView>,
}

/// One row of the identifier table, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IdentifierView {
    pub name: String,
    pub kind: IdentifierKind,
    pub provider: String,
    pub purpose: String,
    pub duration: String,
    pub domain: String,
    pub third_party_access: bool,
    /// What the browser sends with it to destinations outside the page's own site (Japan's
    /// external-transmission rule), in the same language; absent when it sends nothing.
    // Absent rather than empty: the banner-text hash of a version published before
    // transmissions existed is over this JSON, and must stay what its receipts say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transmissions: Vec<TransmissionView>,
}

/// One external transmission of an identifier, in one language: what is sent, to whom and
/// which host, what for, and how to refuse it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TransmissionView {
    /// The information sent.
    pub items: String,
    /// The name of whoever receives it.
    pub recipient: String,
    /// The host the browser sends it to.
    #[cfg_attr(
        feature = "ssr",
        schema(
            example = "consent.zeccloud.com",
            pattern = "^[a-z0-9-]+(\\.[a-z0-9-]+)+$"
        )
    )]
    pub destination: String,
    /// What the recipient uses it for.
    pub purpose: String,
    /// How to refuse it or opt out.
    pub refusal: String,
}

// The unit tests are beside this file, in tests.rs.
pub mod translations;

#[cfg(test)]
pub(crate) mod tests;
