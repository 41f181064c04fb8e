//! Which texts a jurisdiction's visitors would read in the default language instead of their
//! own: what `server policy check` reports. A missing translation is not an error (the policy
//! falls back to its default language, and `Policy::check` already requires that one), but a
//! privacy officer publishing for Korea wants to know that Korean visitors would read the
//! four items in English.

use super::Policy;
use crate::domain::jurisdiction::{DEFAULT_JURISDICTION, Regime};
use std::collections::BTreeMap;

/// One text missing in one language, for the visitors of one jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingText {
    /// The jurisdiction (`default` for everyone the policy lists nowhere).
    pub jurisdiction: String,
    pub language: String,
    /// Where the text lives in the policy file, e.g. `banner.ko.opt_out` or
    /// `categories.analytics.text.ko.items`.
    pub text: String,
}

impl Policy {
    /// Every text the visitors of each jurisdiction (and of `default`) would see in the default
    /// language rather than in `languages`, sorted by jurisdiction, language and text.
    pub fn missing_texts(&self, languages: &[&str]) -> Vec<MissingText> {
        let mut regions: Vec<(&str, Regime, bool)> = self
            .jurisdictions
            .iter()
            .map(|j| (j.name.as_str(), j.regime, j.show_collection_details))
            .collect();
        regions.push((DEFAULT_JURISDICTION, self.default_regime(), false));
        let mut missing = Vec::new();
        for language in languages
            .iter()
            .filter(|language| **language != self.default_language)
        {
            for &(jurisdiction, regime, details) in &regions {
                for text in self.missing_in(language, regime, details) {
                    missing.push(MissingText {
                        jurisdiction: jurisdiction.to_owned(),
                        language: (*language).to_owned(),
                        text,
                    });
                }
            }
        }
        missing.sort();
        missing
    }

    /// The texts missing in `language` from what a visitor under `regime` (with or without
    /// the collection details) is shown: the first layer, the categories and their
    /// identifiers, and the external-transmission page.
    fn missing_in(&self, language: &str, regime: Regime, details: bool) -> Vec<String> {
        let mut missing = Vec::new();
        match self.banner.get(language) {
            None => missing.push(format!("banner.{language}")),
            Some(banner) => missing.extend(
                banner
                    .regime_texts(regime)
                    .into_iter()
                    .filter(|(_, text)| text.is_none())
                    .map(|(field, _)| format!("banner.{language}.{field}")),
            ),
        }
        let lacks = |texts: &BTreeMap<String, String>| !texts.contains_key(language);
        for category in &self.categories {
            let id = category.id.as_str();
            match category.text.get(language) {
                None => missing.push(format!("categories.{id}.text.{language}")),
                Some(text) if details && !category.required() => missing.extend(
                    text.collection_details()
                        .into_iter()
                        .filter(|(_, value)| value.is_none())
                        .map(|(field, _)| format!("categories.{id}.text.{language}.{field}")),
                ),
                Some(_) => {}
            }
            for identifier in &category.identifiers {
                let name = &identifier.name;
                if lacks(&identifier.purpose) {
                    missing.push(format!("identifier {name}: purpose.{language}"));
                }
                for (number, transmission) in identifier.transmissions.iter().enumerate() {
                    for (field, texts) in transmission.texts() {
                        if lacks(texts) {
                            missing.push(format!(
                                "identifier {name}: transmission {}: {field}.{language}",
                                number + 1
                            ));
                        }
                    }
                }
            }
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::jurisdiction::{Jurisdiction, Region};
    use crate::domain::policy::tests::sample_policy;
    use crate::domain::policy::{BannerText, CategoryText};

    #[test]
    fn each_jurisdiction_is_told_what_its_visitors_would_read_in_the_default_language() {
        let mut policy = sample_policy();
        policy.jurisdictions = vec![
            Jurisdiction {
                name: "korea".into(),
                countries: vec![Region::parse("KR").unwrap()],
                regime: Regime::OptIn,
                show_collection_details: true,
            },
            Jurisdiction {
                name: "united_states".into(),
                countries: vec![Region::parse("US").unwrap()],
                regime: Regime::OptOut,
                show_collection_details: false,
            },
        ];
        let english = BannerText {
            opt_out_body: None,
            opt_out: None,
            notice_body: None,
            acknowledge: None,
            ..policy.banner["en"].clone()
        };
        // Korean banner without the opt-out texts; Korean category texts without details.
        policy.banner.insert("ko".into(), english);
        for category in &mut policy.categories {
            let title = category.text["en"].title.clone();
            category.text.insert(
                "ko".into(),
                CategoryText {
                    title,
                    description: "설명".into(),
                    items: None,
                    retention: None,
                    refusal: None,
                },
            );
            for identifier in &mut category.identifiers {
                identifier.purpose.insert("ko".into(), "목적".into());
            }
        }
        let reported: Vec<(String, String)> = policy
            .missing_texts(&["en", "ko"])
            .into_iter()
            .map(|missing| (missing.jurisdiction, missing.text))
            .collect();
        let expected: Vec<(String, String)> = [
            ("korea", "categories.analytics.text.ko.items"),
            ("korea", "categories.analytics.text.ko.refusal"),
            ("korea", "categories.analytics.text.ko.retention"),
            ("korea", "categories.preferences.text.ko.items"),
            ("korea", "categories.preferences.text.ko.refusal"),
            ("korea", "categories.preferences.text.ko.retention"),
            ("united_states", "banner.ko.acknowledge"),
            ("united_states", "banner.ko.opt_out"),
            ("united_states", "banner.ko.opt_out_body"),
        ]
        .into_iter()
        .map(|(j, t)| (j.to_owned(), t.to_owned()))
        .collect();
        assert_eq!(reported, expected);
        // A language without any banner or category text: everything, for everyone.
        let japanese = policy.missing_texts(&["ja"]);
        assert!(
            japanese
                .iter()
                .any(|m| m.jurisdiction == "default" && m.text == "banner.ja")
        );
        assert!(
            japanese
                .iter()
                .any(|m| m.text == "identifier analytics_cookie*: purpose.ja")
        );
    }
}
