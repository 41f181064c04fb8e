//! Matomo tracking hits and the gate's rules for them, with no I/O: the shapes of Matomo's
//! Tracking HTTP API (query string, form body, bulk JSON), the decision per hit from the
//! visitor's stored consent, and what is removed before a hit may leave without consent.

use app::ErrorCode;
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What the gate forwards is an allowlist, matched on the name as Matomo's PHP reads it
/// ([`PhpName`]); every other parameter is dropped, in every spelling. Parameters any
/// forwarded hit may carry: what Matomo's tracker says about the page, the action and the
/// device, none of them naming the visitor.
pub const ANY_HIT_PARAMS: &[&str] = &[
    // The request itself.
    "idsite",
    "rec",
    "apiv",
    "r",
    "rand",
    "send_image",
    "ping",
    "ca",
    "bots",
    "cs",
    // The page and the action.
    "action_name",
    "url",
    "urlref",
    "pv_id",
    "new_visit",
    "link",
    "download",
    "search",
    "search_cat",
    "search_count",
    // The device, as the browser reports it.
    "res",
    "h",
    "m",
    "s",
    "cookie",
    "uadata",
    "fla",
    "java",
    "dir",
    "qt",
    "realp",
    "pdf",
    "wma",
    "gears",
    "ag",
    // Page performance.
    "pf_net",
    "pf_srv",
    "pf_tfr",
    "pf_dm1",
    "pf_dm2",
    "pf_onl",
    // Events, content, goals and ecommerce.
    "e_c",
    "e_a",
    "e_n",
    "e_v",
    "c_n",
    "c_p",
    "c_t",
    "c_i",
    "idgoal",
    "revenue",
    "ec_id",
    "ec_items",
    "ec_st",
    "ec_tx",
    "ec_sh",
    "ec_dt",
    "_pkc",
    "_pkp",
    "_pks",
    "_pkn",
    // Media Analytics.
    "ma_id",
    "ma_ti",
    "ma_re",
    "ma_mt",
    "ma_pn",
    "ma_st",
    "ma_le",
    "ma_ps",
    "ma_ttp",
    "ma_w",
    "ma_h",
    "ma_fs",
    "ma_se",
    // Crash Analytics.
    "cra",
    "cra_st",
    "cra_ct",
    "cra_tp",
    "cra_ru",
    "cra_rl",
    "cra_rc",
];

/// Parameters that identify the visitor or come from Matomo's first-party cookies, and
/// custom variables (free-form, often a person's data): forwarded only with consent.
pub const IDENTIFIER_PARAMS: &[&str] = &[
    "_id", "uid", "_idn", "_idts", "_idvc", "_viewts", "_refts",
    // Also read from the `_pk_ref` / `_pk_id` cookies by Matomo's tracker.
    "_ref", "_rcn", "_rck", "_ects", "_cvar", "cvar",
];

/// Parameters only the gate sets, never taken from a visitor in any spelling: the user agent
/// and languages (from the visitor's headers), Matomo's visitor id (with consent) and the
/// truncated address with the token that vouches for it. Everything else Matomo honours only
/// with a token (`cdt`, `cdo`, `country`, `region`, `city`, `lat`, `long`) is on no list, so
/// it never passes: with the gate's token a visitor could back-date hits or place them anywhere.
pub const GATE_PARAMS: &[&str] = &["ua", "lang", "cid", "cip", "token_auth"];

/// Which list a parameter is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allowed {
    AnyHit,
    WithConsent,
    /// `dimensionN`: a custom dimension, forwarded unless the operator lists it as personal.
    Dimension(u32),
}

fn allowed(name: &str) -> Option<Allowed> {
    if ANY_HIT_PARAMS.contains(&name) {
        return Some(Allowed::AnyHit);
    }
    if IDENTIFIER_PARAMS.contains(&name) {
        return Some(Allowed::WithConsent);
    }
    // Only the plain spelling (`dimension7`, not `dimension07`), as Matomo reads it.
    let id = name.strip_prefix("dimension")?.parse::<u32>().ok()?;
    (id > 0 && name == format!("dimension{id}")).then_some(Allowed::Dimension(id))
}

/// A parameter's name as PHP registers it (`php_register_variable_ex`) before Matomo reads
/// it: leading spaces dropped, cut at the first NUL, ` ` and `.` turned into `_` in the base
/// name; `a[…]` makes `a` an array, and a `[` never closed turns into `_` (PHP 8 also turns
/// ` `, `.` and `[` after it into `_`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhpName {
    base: String,
    array: bool,
}

impl PhpName {
    /// The name PHP registers for a percent-decoded parameter name, or `None` when PHP
    /// drops the parameter (nothing left of its name).
    pub fn parse(decoded: &str) -> Option<Self> {
        let name = decoded.trim_start_matches(' ');
        let name = name.split('\0').next().unwrap_or_default();
        let underscored = |c: char| if matches!(c, ' ' | '.') { '_' } else { c };
        let (base, index) = match name.split_once('[') {
            Some((base, index)) => (base, Some(index)),
            None => (name, None),
        };
        if base.is_empty() {
            return None;
        }
        let mut base: String = base.chars().map(underscored).collect();
        // PHP skips one white-space after `[`; a `]` anywhere after it closes the index.
        let array = match index {
            Some(index) if index.contains(']') => true,
            Some(unclosed) => {
                base.push('_');
                base.extend(
                    unclosed
                        .chars()
                        .map(|c| if c == '[' { '_' } else { underscored(c) }),
                );
                false
            }
            None => false,
        };
        Some(Self { base, array })
    }

    /// The variable's name (an array's name without its index).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `a[]`, `a[x]`: PHP makes `a` an array.
    pub fn is_array(&self) -> bool {
        self.array
    }
}

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

/// One tracking request: the parameters on the gate's lists, each once under the name Matomo
/// reads, in the order they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingHit {
    params: Vec<(String, String)>,
}

impl TrackingHit {
    /// Parses a query string or form body (`idsite=1&rec=1&…`, a leading `?` allowed) and
    /// checks what Matomo needs to record it. Names are read as PHP reads them ([`PhpName`]);
    /// a parameter on no list, or sent as an array, is dropped; a repeated one keeps its last
    /// value, as in PHP.
    pub fn parse(query: &str) -> Result<Self, HitError> {
        if query.len() > MAX_HIT_BYTES {
            return Err(HitError::TooLong);
        }
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut params: Vec<(String, String)> = Vec::new();
        let mut any = false;
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            any = true;
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (key, value) = (decode(key)?, decode(value)?);
            let Some(name) = PhpName::parse(&key) else {
                continue;
            };
            if name.is_array() || allowed(name.base()).is_none() {
                continue;
            }
            params.retain(|(k, _)| k != name.base());
            params.push((name.base, value));
        }
        if !any {
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

    /// The value of `key` (each parameter is kept once).
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

    /// The hit without any visitor identifier, cookie-derived field, custom variable or
    /// personal custom dimension, marked as sent without cookies (`cookie=0`).
    pub fn anonymised(&self, personal: &PersonalFields) -> Self {
        let mut hit = self.clone();
        hit.remove(|key| match allowed(key) {
            Some(Allowed::AnyHit) => false,
            Some(Allowed::Dimension(id)) => personal.dimensions.contains(&id),
            Some(Allowed::WithConsent) | None => true,
        });
        hit.set("cookie", "0");
        hit
    }

    /// The hit as sent upstream, form-encoded: its own parameters (none of them one the gate
    /// sets, see [`GATE_PARAMS`]), then the visitor's user agent and languages from their
    /// headers, `cip` when the gate authenticates and Matomo's visitor id with consent.
    /// Written straight from the hit without copying its parameters first: this runs once per
    /// forwarded hit.
    pub fn upstream_query(&self, visitor: &UpstreamFields<'_>) -> String {
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
        query.extend_pairs(&self.params);
        for (key, value) in added {
            if let Some(value) = value {
                query.append_pair(key, value);
            }
        }
        query.finish()
    }
}

/// `query` (a hit as [`TrackingHit::upstream_query`] wrote it) with the gate's `token_auth`
/// as its last parameter, so that no earlier value could win: only for a hit carrying the
/// `cip` the gate set, which is all the token vouches for.
pub fn with_token(mut query: String, token_auth: &str) -> String {
    // From the start: the serializer sees the hit's pairs and adds `&` after them.
    form_urlencoded::Serializer::for_suffix(&mut query, 0).append_pair("token_auth", token_auth);
    query
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
    /// the gate's `token_auth` when the gate set `cip` on some of them. The others carry
    /// nothing the token could vouch for: every parameter Matomo honours only with a token is
    /// dropped from what visitors send.
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

/// Custom dimensions (`dimensionN`) that identify a person: removed from anonymous hits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonalFields {
    pub dimensions: BTreeSet<u32>,
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
