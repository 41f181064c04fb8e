//! Matomo tracking hits and the gate's rules for them, with no I/O: the shapes of Matomo's
//! Tracking HTTP API (query string, form body, bulk JSON), the decision per hit from the
//! visitor's stored consent, and what is removed before a hit may leave without consent.

use app::ErrorCode;
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Parameters that identify the visitor or come from Matomo's first-party cookies; a hit
/// forwarded without consent carries none of them.
pub const IDENTIFIER_PARAMS: &[&str] = &[
    "_id", "cid", "uid", "_idn", "_idts", "_idvc", "_viewts", "_refts",
    // Also read from the `_pk_ref` / `_pk_id` cookies by Matomo's tracker.
    "_ref", "_rcn", "_rck", "_ects",
];

/// Parameters Matomo only honours with a `token_auth`: the gate sets `cip` itself and never
/// lets a visitor's request borrow its token for the others. `cdt` (a custom time) older than
/// a day needs the token too: with it, a visitor could back-date hits, so it never passes.
const PRIVILEGED_PARAMS: &[&str] = &[
    "token_auth",
    "cip",
    "country",
    "region",
    "city",
    "lat",
    "long",
    "cdt",
];

/// Longest single hit accepted (Matomo's own tracker stays far below this).
const MAX_HIT_BYTES: usize = 16 * 1024;
/// Most hits in one bulk request.
pub const MAX_BULK_HITS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HitError {
    #[error("the tracking request has no parameters")]
    Empty,
    #[error("the tracking request is longer than {MAX_HIT_BYTES} bytes")]
    TooLong,
    #[error("parameter {0:?} is not valid percent-encoded UTF-8")]
    BadEncoding(String),
    #[error("idsite must be a positive whole number")]
    BadSiteId,
    #[error("rec=1 is required: Matomo records nothing without it")]
    NotRecording,
    #[error("the bulk body is not valid JSON: {0}")]
    BulkJson(String),
    #[error("the bulk body must be a JSON object with \"requests\": a list of query strings")]
    BulkNotAList,
    #[error("the bulk request has no entries")]
    BulkEmpty,
    #[error("the bulk request has more than {MAX_BULK_HITS} entries")]
    BulkTooMany,
    #[error("bulk entry {index} is not a string")]
    BulkEntryNotAString { index: usize },
    #[error("bulk entry {index}: {reason}")]
    BulkEntry { index: usize, reason: Box<HitError> },
}

impl HitError {
    /// Machine-readable code for the API's error body.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BulkJson(_) => ErrorCode::InvalidBulkJson,
            Self::BulkNotAList
            | Self::BulkEmpty
            | Self::BulkTooMany
            | Self::BulkEntryNotAString { .. }
            | Self::BulkEntry { .. } => ErrorCode::InvalidBulkRequest,
            _ => ErrorCode::InvalidTrackingRequest,
        }
    }
}

/// One tracking request: its parameters in the order they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingHit {
    params: Vec<(String, String)>,
}

impl TrackingHit {
    /// Parses a query string or form body (`idsite=1&rec=1&…`, a leading `?` allowed) and
    /// checks what Matomo needs to record it.
    pub fn parse(query: &str) -> Result<Self, HitError> {
        if query.len() > MAX_HIT_BYTES {
            return Err(HitError::TooLong);
        }
        let query = query.strip_prefix('?').unwrap_or(query);
        let params = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                Ok((decode(key)?, decode(value)?))
            })
            .collect::<Result<Vec<_>, HitError>>()?;
        if params.is_empty() {
            return Err(HitError::Empty);
        }
        let hit = Self { params };
        match hit.get("idsite") {
            Some(id) if id.parse::<u64>().is_ok_and(|id| id > 0) => {}
            _ => return Err(HitError::BadSiteId),
        }
        if hit.get("rec") != Some("1") {
            return Err(HitError::NotRecording);
        }
        Ok(hit)
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// `send_image=0`: the tracker wants 204 instead of a GIF.
    pub fn wants_image(&self) -> bool {
        self.get("send_image") != Some("0")
    }

    /// Form-encoded parameters, as Matomo reads them from a query string or a body.
    pub fn to_query(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.params)
            .finish()
    }

    fn remove(&mut self, remove: impl Fn(&str) -> bool) {
        self.params.retain(|(key, _)| !remove(key));
    }

    fn set(&mut self, key: &str, value: &str) {
        self.remove(|k| k == key);
        self.params.push((key.to_owned(), value.to_owned()));
    }

    /// The hit without any visitor identifier, cookie-derived field or personal custom
    /// variable/dimension, marked as sent without cookies (`cookie=0`).
    pub fn anonymised(&self, personal: &PersonalFields) -> Self {
        let mut hit = self.clone();
        hit.remove(|key| IDENTIFIER_PARAMS.contains(&key) || personal.is_personal_dimension(key));
        hit.params = hit
            .params
            .into_iter()
            .filter_map(|(key, value)| match key.as_str() {
                "_cvar" | "cvar" => personal.strip_custom_variables(&value).map(|v| (key, v)),
                _ => Some((key, value)),
            })
            .collect();
        hit.set("cookie", "0");
        hit
    }

    /// The hit as sent upstream, form-encoded: the visitor's user agent and languages from
    /// their headers, no privileged parameter of the visitor's, `cip` when the gate
    /// authenticates and Matomo's visitor id with consent. Written straight from the hit
    /// without copying its parameters first: this runs once per forwarded hit.
    pub fn upstream_query(&self, visitor: &UpstreamFields<'_>) -> String {
        let replaced = |key: &str| match key {
            "ua" => visitor.user_agent.is_some(),
            "lang" => visitor.accept_language.is_some(),
            "cid" => visitor.visitor_id.is_some(),
            _ => PRIVILEGED_PARAMS.contains(&key),
        };
        let added = [
            ("ua", visitor.user_agent),
            ("lang", visitor.accept_language),
            ("cip", visitor.cip),
            ("cid", visitor.visitor_id),
        ];
        // Parameters come percent-decoded; the estimate leaves room for re-encoding.
        let estimate = self
            .params
            .iter()
            .map(|(key, value)| key.len() + value.len() + 2)
            .chain(added.iter().map(|(_, value)| value.map_or(0, str::len) + 6))
            .sum::<usize>();
        let mut query = form_urlencoded::Serializer::new(String::with_capacity(estimate * 5 / 4));
        for (key, value) in &self.params {
            if !replaced(key) {
                query.append_pair(key, value);
            }
        }
        for (key, value) in added {
            if let Some(value) = value {
                query.append_pair(key, value);
            }
        }
        query.finish()
    }
}

/// `+` is a space in form encoding; everything else is percent-decoded and must be UTF-8.
fn decode(raw: &str) -> Result<String, HitError> {
    let spaced = if raw.contains('+') {
        std::borrow::Cow::Owned(raw.replace('+', " "))
    } else {
        std::borrow::Cow::Borrowed(raw)
    };
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| HitError::BadEncoding(raw.chars().take(40).collect()))
}

/// What the gate adds to each forwarded hit.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpstreamFields<'a> {
    pub user_agent: Option<&'a str>,
    pub accept_language: Option<&'a str>,
    /// The visitor's truncated address; only with a configured `token_auth`.
    pub cip: Option<&'a str>,
    /// Matomo's visitor id for the SSAID (a keyed hash), on hits forwarded with consent: every
    /// hit of one browser carries it, so the service can find and delete them again.
    pub visitor_id: Option<&'a str>,
}

/// A bulk request (`{"requests": ["?idsite=1&rec=1&…", …], "send_image": 0}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRequest {
    pub hits: Vec<TrackingHit>,
    pub send_image: bool,
}

/// Matomo tells a bulk body from a form body by its content, not its content type (its
/// tracker sends both as `application/x-www-form-urlencoded`).
pub fn is_bulk(body: &[u8]) -> bool {
    body.trim_ascii_start().first() == Some(&b'{')
}

impl BulkRequest {
    /// Parses and checks every entry: one bad entry refuses the whole request, so nothing of
    /// it is forwarded.
    pub fn parse(body: &[u8]) -> Result<Self, HitError> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|err| HitError::BulkJson(err.to_string()))?;
        let entries = value
            .get("requests")
            .and_then(serde_json::Value::as_array)
            .ok_or(HitError::BulkNotAList)?;
        if entries.is_empty() {
            return Err(HitError::BulkEmpty);
        }
        if entries.len() > MAX_BULK_HITS {
            return Err(HitError::BulkTooMany);
        }
        let hits = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                let query = entry
                    .as_str()
                    .ok_or(HitError::BulkEntryNotAString { index })?;
                TrackingHit::parse(query).map_err(|reason| HitError::BulkEntry {
                    index,
                    reason: Box::new(reason),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let send_image = match value.get("send_image") {
            Some(serde_json::Value::Number(n)) => n.as_i64() != Some(0),
            Some(serde_json::Value::String(s)) => s != "0",
            Some(serde_json::Value::Bool(b)) => *b,
            _ => true,
        };
        Ok(Self { hits, send_image })
    }

    /// The body sent upstream: the hits, already form-encoded (as the gate prepares them), and
    /// the gate's `token_auth` when configured.
    pub fn body_of_queries(queries: &[String], token_auth: Option<&str>) -> String {
        #[derive(Serialize)]
        struct Body<'a> {
            requests: Vec<String>,
            send_image: u8,
            #[serde(skip_serializing_if = "Option::is_none")]
            token_auth: Option<&'a str>,
        }
        let body = Body {
            requests: queries.iter().map(|query| format!("?{query}")).collect(),
            send_image: 0,
            token_auth,
        };
        serde_json::to_string(&body).expect("strings always serialise")
    }
}

/// Custom dimensions (`dimensionN`) and custom variables (by name) that identify a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonalFields {
    pub dimensions: BTreeSet<u32>,
    pub custom_variables: BTreeSet<String>,
}

impl PersonalFields {
    fn is_personal_dimension(&self, key: &str) -> bool {
        key.strip_prefix("dimension")
            .and_then(|id| id.parse::<u32>().ok())
            .is_some_and(|id| self.dimensions.contains(&id))
    }

    /// `_cvar`/`cvar` are JSON objects `{"1": ["name", "value"], …}`; personal entries are
    /// removed, and a value that cannot be read is removed whole rather than passed on.
    fn strip_custom_variables(&self, raw: &str) -> Option<String> {
        let serde_json::Value::Object(mut slots) = serde_json::from_str(raw).ok()? else {
            return None;
        };
        slots.retain(|_, slot| {
            slot.get(0)
                .and_then(serde_json::Value::as_str)
                .is_some_and(|name| !self.custom_variables.contains(name))
        });
        (!slots.is_empty()).then(|| serde_json::Value::Object(slots).to_string())
    }
}

/// What happens to a hit without consent: the operator's explicit choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WithoutConsent {
    /// Answer as Matomo would and forward nothing.
    #[default]
    Drop,
    /// Forward the hit stripped of identifiers (`cookie=0`).
    Anonymous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Forward,
    Anonymise,
    Drop(DropReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    NoConsent,
    /// `Sec-GPC: 1` without an explicit opt-in: never forwarded, not even anonymised.
    GlobalPrivacyControl,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoConsent => "no_consent",
            Self::GlobalPrivacyControl => "gpc",
        }
    }
}

/// What the gate knows of the visitor sending a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitorSignals {
    /// A standing consent, on the current policy, grants the analytics category.
    pub opted_in: bool,
    /// `Sec-GPC: 1`.
    pub gpc: bool,
}

/// The decision for one hit.
pub fn decide(visitor: VisitorSignals, without_consent: WithoutConsent) -> Verdict {
    match (visitor.opted_in, visitor.gpc, without_consent) {
        (true, _, _) => Verdict::Forward,
        (false, true, _) => Verdict::Drop(DropReason::GlobalPrivacyControl),
        (false, false, WithoutConsent::Drop) => Verdict::Drop(DropReason::NoConsent),
        (false, false, WithoutConsent::Anonymous) => Verdict::Anonymise,
    }
}

// The unit tests are beside this file, in tests.rs.
#[cfg(test)]
mod tests;
