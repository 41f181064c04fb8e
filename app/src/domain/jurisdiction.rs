//! Where a visitor is and which regime applies there. Pure: the HTTP layer reads the country
//! (from a trusted edge header or a GeoIP file), the policy names the jurisdictions, and this
//! module matches the two.
//!
//! - `opt_in` (the EEA, the UK, Korea, Japan, …): nothing optional before the visitor agrees.
//! - `opt_out` (US states with comprehensive laws): optional categories are on until the visitor
//!   opts out; a Global Privacy Control signal is an opt-out.
//! - `notice` (Hong Kong): the visitor is informed; nothing waits for a click, and every
//!   optional category can still be refused in the preference center.

use serde::{Deserialize, Serialize};

/// What a jurisdiction's law asks before optional identifiers are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Prior consent: nothing optional until the visitor agrees.
    OptIn,
    /// Optional categories are on until the visitor opts out (GPC counts as opting out).
    OptOut,
    /// The visitor is informed; optional categories are on, and can be refused at any time.
    Notice,
}

impl Regime {
    pub const ALL: [Self; 3] = [Self::OptIn, Self::OptOut, Self::Notice];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptIn => "opt_in",
            Self::OptOut => "opt_out",
            Self::Notice => "notice",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|regime| regime.as_str() == raw)
    }

    /// Whether a category the visitor never decided on is granted.
    pub fn on_until_refused(self) -> bool {
        self != Self::OptIn
    }
}

impl std::fmt::Display for Regime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the visitor's country came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CountrySource {
    /// The edge header `country_header`, sent by a trusted proxy.
    Header,
    /// The GeoIP database `geoip_database`, looked up with the visitor's address.
    Geoip,
    /// Neither said: the country is unknown.
    Unknown,
}

impl CountrySource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Geoip => "geoip",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Header, Self::Geoip, Self::Unknown]
            .into_iter()
            .find(|source| source.as_str() == raw)
    }
}

/// An ISO 3166-1 alpha-2 country (`US`), or an ISO 3166-2 subdivision of one (`US-CA`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a country or subdivision: use ISO 3166-1 alpha-2 (\"US\") or ISO 3166-2 (\"US-CA\")"
)]
pub struct InvalidRegion(pub String);

impl Region {
    /// Two ASCII letters, optionally `-` and one to three letters or digits; upper-cased.
    pub fn parse(raw: &str) -> Result<Self, InvalidRegion> {
        let upper = raw.trim().to_ascii_uppercase();
        let (country, subdivision) = match upper.split_once('-') {
            Some((country, subdivision)) => (country, Some(subdivision)),
            None => (upper.as_str(), None),
        };
        let country_ok = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
        let subdivision_ok = subdivision.is_none_or(|s| {
            (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if country_ok && subdivision_ok {
            Ok(Self(upper))
        } else {
            Err(InvalidRegion(raw.to_owned()))
        }
    }

    /// A region as an edge or a GeoIP file reports it; the codes they use for "unknown",
    /// Tor, anonymous proxies or a whole continent (`XX`, `T1`, `A1`, `A2`, `O1`, `EU`, `AP`,
    /// `ZZ`) are no country.
    pub fn from_edge(raw: &str) -> Option<Self> {
        let region = Self::parse(raw).ok()?;
        let not_a_country = ["XX", "ZZ", "EU", "AP", "A1", "A2", "O1", "T1"];
        (!not_a_country.contains(&region.country())).then_some(region)
    }

    /// The country part: `US` of `US-CA`.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    pub fn is_subdivision(&self) -> bool {
        self.0.len() > 2
    }
}

crate::text_newtype!(Region, InvalidRegion, display);

/// Where a request comes from, as far as the service could tell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    pub region: Option<Region>,
    pub source: CountrySource,
}

impl Location {
    pub const UNKNOWN: Self = Self {
        region: None,
        source: CountrySource::Unknown,
    };
}

/// One jurisdiction of the policy: its countries and the regime that applies there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jurisdiction {
    /// A short name, e.g. `korea`: recorded with every decision made there.
    pub name: String,
    /// Countries (`KR`) and subdivisions (`US-CA`); a subdivision wins over its country.
    pub countries: Vec<Region>,
    pub regime: Regime,
    /// The first layer shows, for every optional category, its purpose, the items collected,
    /// the retention and the right to refuse (Korea, PIPA Art. 15(2)).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub show_collection_details: bool,
}

/// The name recorded for a visitor in no jurisdiction of the policy (or of unknown country).
pub const DEFAULT_JURISDICTION: &str = "default";

/// The jurisdiction that applies to one request, as the API and the records carry it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::ToSchema),
    schema(example = json!({
        "name": "united_states",
        "country": "US",
        "regime": "opt_out",
        "source": "header",
        "show_collection_details": false
    }))
)]
pub struct AppliedJurisdiction {
    /// The policy's jurisdiction, or `default` for a country it does not list (or none known).
    pub name: String,
    /// The visitor's country or subdivision, when known.
    #[cfg_attr(feature = "ssr", schema(pattern = "^[A-Z]{2}(-[A-Z0-9]{1,3})?$"))]
    pub country: Option<String>,
    pub regime: Regime,
    pub source: CountrySource,
    /// The first layer lists each optional category's purpose, items, retention and the right
    /// to refuse.
    #[serde(default)]
    pub show_collection_details: bool,
}

impl AppliedJurisdiction {
    /// Strictest, for a request nobody located (and for pages rendered outside a request).
    pub fn strictest() -> Self {
        Self {
            name: DEFAULT_JURISDICTION.to_owned(),
            country: None,
            regime: Regime::OptIn,
            source: CountrySource::Unknown,
            show_collection_details: false,
        }
    }
}

/// The jurisdiction of `location`: the one listing its subdivision, else the one listing its
/// country, else `default` with `default_regime`.
pub fn resolve(
    jurisdictions: &[Jurisdiction],
    default_regime: Regime,
    location: &Location,
) -> AppliedJurisdiction {
    let country = location.region.as_ref().map(Region::to_string);
    let listed = |wanted: &str| {
        jurisdictions.iter().find(|jurisdiction| {
            jurisdiction
                .countries
                .iter()
                .any(|region| region.as_str() == wanted)
        })
    };
    let found = location.region.as_ref().and_then(|region| {
        listed(region.as_str()).or_else(|| {
            region
                .is_subdivision()
                .then(|| listed(region.country()))
                .flatten()
        })
    });
    match found {
        Some(jurisdiction) => AppliedJurisdiction {
            name: jurisdiction.name.clone(),
            country,
            regime: jurisdiction.regime,
            source: location.source,
            show_collection_details: jurisdiction.show_collection_details,
        },
        None => AppliedJurisdiction {
            name: DEFAULT_JURISDICTION.to_owned(),
            country,
            regime: default_regime,
            source: location.source,
            show_collection_details: false,
        },
    }
}

/// A jurisdiction name: 1-32 lower-case ASCII letters, digits or `_`, not `default`.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name != DEFAULT_JURISDICTION
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(raw: &str) -> Region {
        Region::parse(raw).unwrap()
    }

    fn jurisdictions() -> Vec<Jurisdiction> {
        vec![
            Jurisdiction {
                name: "korea".into(),
                countries: vec![region("KR")],
                regime: Regime::OptIn,
                show_collection_details: true,
            },
            Jurisdiction {
                name: "california".into(),
                countries: vec![region("US-CA")],
                regime: Regime::OptOut,
                show_collection_details: false,
            },
            Jurisdiction {
                name: "united_states".into(),
                countries: vec![region("US")],
                regime: Regime::Notice,
                show_collection_details: false,
            },
        ]
    }

    fn at(raw: &str) -> Location {
        Location {
            region: Region::from_edge(raw),
            source: CountrySource::Header,
        }
    }

    #[test]
    fn regions_are_iso_codes_upper_cased() {
        assert_eq!(region("us").as_str(), "US");
        assert_eq!(region(" us-ca ").as_str(), "US-CA");
        assert_eq!(region("FR-75C").country(), "FR");
        for bad in ["", "U", "USA", "U1", "US-", "US-CALI", "US_CA", "🇺🇸"] {
            assert_eq!(
                Region::parse(bad),
                Err(InvalidRegion(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn edge_codes_for_unknown_are_no_country() {
        for unknown in ["XX", "T1", "A1", "EU", "zz", "", "garbage"] {
            assert_eq!(Region::from_edge(unknown), None, "{unknown}");
        }
        assert_eq!(Region::from_edge("kr"), Some(region("KR")));
    }

    #[test]
    fn a_subdivision_wins_over_its_country_and_falls_back_to_it() {
        let list = jurisdictions();
        let applied = |raw| resolve(&list, Regime::OptIn, &at(raw));
        assert_eq!(applied("US-CA").name, "california");
        assert_eq!(applied("US-CA").regime, Regime::OptOut);
        assert_eq!(applied("US-CA").country.as_deref(), Some("US-CA"));
        assert_eq!(applied("US-NY").name, "united_states");
        assert_eq!(applied("US").regime, Regime::Notice);
        assert!(applied("KR").show_collection_details);
    }

    #[test]
    fn unlisted_and_unknown_countries_get_the_default_regime() {
        let list = jurisdictions();
        let unlisted = resolve(&list, Regime::OptIn, &at("BR"));
        assert_eq!(unlisted.name, DEFAULT_JURISDICTION);
        assert_eq!(unlisted.regime, Regime::OptIn);
        assert_eq!(unlisted.country.as_deref(), Some("BR"));
        let unknown = resolve(&list, Regime::Notice, &Location::UNKNOWN);
        assert_eq!(unknown.regime, Regime::Notice);
        assert_eq!(unknown.source, CountrySource::Unknown);
        assert_eq!(unknown.country, None);
        assert_eq!(
            resolve(&[], Regime::OptIn, &Location::UNKNOWN),
            AppliedJurisdiction::strictest()
        );
    }

    #[test]
    fn names_are_short_lower_case_and_not_default() {
        assert!(valid_name("korea"));
        assert!(valid_name("eea_uk_ch"));
        for bad in ["", "Korea", "south korea", "default", &"k".repeat(33)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
