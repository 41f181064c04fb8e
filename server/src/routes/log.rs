//! The consent log's public endpoints (docs/consent-log.md): the latest signed head, the log's
//! keys, inclusion and consistency proofs. No authentication and no visitor identity: anyone
//! may check the log, from any origin, and caches may keep the answers.

use crate::error::{ApiError, AppQuery};
use crate::service::log::{ConsentLog, LogError, base64_hash, head_time};
use crate::state::AppState;
use app::ErrorCode;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

#[derive(utoipa::OpenApi)]
#[openapi(paths(latest_head, keys, inclusion, consistency))]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/log/head", get(latest_head))
        .route("/api/v1/log/key", get(keys))
        .route("/api/v1/log/inclusion", get(inclusion))
        .route("/api/v1/log/consistency", get(consistency))
}

const EXAMPLE_ROOT: &str = "qGWsr5LuvuH/CxwhY6Ilr+/ffPaGtPoI5O7oR1PwdMw=";
const EXAMPLE_CHECKPOINT: &str = "consent.zeccloud.com/log\n18\nqGWsr5LuvuH/CxwhY6Ilr+/ffPaGtPoI5O7oR1PwdMw=\ntimestamp 2026-12-08T01:02:03.123Z\n\n\u{2014} consent.zeccloud.com/log 4Ha+NqyXeVa0pGxW3X4TcRYlqzK9X7z9rpkz3mSRq4mLsyl9l1nWb9b6nRe8UbhGe6pZ4jdk6mMXr1YjEwfuRxXKdgQ=\n";

/// A signed tree head.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "origin": "consent.zeccloud.com/log",
    "tree_size": 18,
    "root_hash": EXAMPLE_ROOT,
    "timestamp": "2026-12-08T01:02:03.123Z",
    "key_id": "e076be36",
    "checkpoint": EXAMPLE_CHECKPOINT
}))]
pub struct HeadBody {
    /// The log's name: the checkpoint's first line.
    pub origin: String,
    pub tree_size: u64,
    /// Base64 of the SHA-256 root of the tree of `tree_size` leaves (RFC 9162).
    pub root_hash: String,
    /// When the head was signed.
    pub timestamp: String,
    /// The signing key's id (hex of its four bytes).
    pub key_id: String,
    /// The whole signed note (C2SP checkpoint and signature), as Go's `sumdb/note` reads it.
    pub checkpoint: String,
}

impl From<&crate::domain::log::SignedHead> for HeadBody {
    fn from(signed: &crate::domain::log::SignedHead) -> Self {
        Self {
            origin: signed.head.origin.clone(),
            tree_size: signed.head.size,
            root_hash: base64_hash(signed.head.root),
            timestamp: head_time(signed.head.timestamp),
            key_id: signed.key_id.clone(),
            checkpoint: signed.note.clone(),
        }
    }
}

/// The keys that sign (or signed) heads.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"keys": [{
    "name": "consent.zeccloud.com/log",
    "key_id": "e076be36",
    "algorithm": "ed25519",
    "public_key": "A3rXkzfKGY6BQIbJ0GjCqFDbbWd5N3bs3e/AZOdL5jM=",
    "verifier_key": "consent.zeccloud.com/log+e076be36+AQN614s3yhmOgUCGydBowqhQ221neTd27N3vwGTnS+Yz",
    "current": true
}]}))]
pub struct KeysBody {
    pub keys: Vec<KeyBody>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyBody {
    /// The key's name: the log's origin.
    pub name: String,
    pub key_id: String,
    /// Always `ed25519`.
    pub algorithm: &'static str,
    /// Base64 of the 32-byte public key.
    pub public_key: String,
    /// Go `sumdb/note` verifier key: `name+keyid+base64(0x01 ‖ key)`.
    pub verifier_key: String,
    /// Whether it signs new heads (the others are retired keys).
    pub current: bool,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The decision (a receipt's `event_id`).
    #[param(example = "019af9a2-7c1e-7d33-9f4e-0a6b2c3d4e5f")]
    pub event_id: Uuid,
    /// A stored head's size; the latest head when absent.
    #[param(example = 18, minimum = 1)]
    pub tree_size: Option<u64>,
}

/// A decision's leaf and its audit path to a signed head's root.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "event_id": "019af9a2-7c1e-7d33-9f4e-0a6b2c3d4e5f",
    "leaf_index": 17,
    "leaf_hash": "d0Q3sq8jH9n5yGBkUqZ9p2m0b3sQv9o7l5rQ1p0wZxQ=",
    "leaf_data": "zeccloud-consent-log/v1\nconsent\n2026-12-08T01:02:01.120345Z\n5b1f0e5c8a6f2d33b8f0a4f9f58d1b8fa2c2a87b0d9d5e0c36b8b38a3f4e1c20\n",
    "tree_size": 18,
    "root_hash": EXAMPLE_ROOT,
    "audit_path": ["bc1aBkOxLk0tfHeRj0Tg9HmoOLbPnsW1wo4fH02IWZ5r"],
    "checkpoint": EXAMPLE_CHECKPOINT
}))]
pub struct InclusionBody {
    pub event_id: Uuid,
    pub leaf_index: u64,
    /// Base64 of SHA-256(0x00 ‖ leaf_data).
    pub leaf_hash: String,
    /// The leaf's four lines (docs/consent-log.md, "Leaves").
    pub leaf_data: String,
    pub tree_size: u64,
    pub root_hash: String,
    /// Base64 hashes, leaf to root (RFC 9162 §2.1.3).
    pub audit_path: Vec<String>,
    /// The signed head the proof is against.
    pub checkpoint: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The earlier tree's size (at least 1).
    #[param(example = 12, minimum = 1)]
    pub first: u64,
    /// The later tree's size, at most the latest head's.
    #[param(example = 18, minimum = 1)]
    pub second: u64,
}

/// The proof that one tree is a prefix of another.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "first": 12,
    "second": 18,
    "first_root": "0ebcXTQ3++LbFYufEmodEY4wgYEDHQqUn43t7evFWO9q",
    "second_root": EXAMPLE_ROOT,
    "proof": ["yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4YrmTj6Kiz5tP8P3+izDNlSCWFLc="]
}))]
pub struct ConsistencyBody {
    pub first: u64,
    pub second: u64,
    pub first_root: String,
    pub second_root: String,
    /// Base64 hashes (RFC 9162 §2.1.4).
    pub proof: Vec<String>,
}

impl From<LogError> for ApiError {
    fn from(err: LogError) -> Self {
        let message = err.to_string();
        match err {
            LogError::EntryNotFound(_) => ApiError::new(ErrorCode::LogEntryNotFound, message),
            LogError::HeadNotFound(_) => ApiError::new(ErrorCode::LogHeadNotFound, message),
            LogError::NotYetSigned { interval, .. } => {
                ApiError::new(ErrorCode::LogEntryNotYetSigned, message).retry_after(interval.max(1))
            }
            LogError::Range(_) => ApiError::new(ErrorCode::InvalidLogRange, message),
            LogError::Storage(storage) => ApiError::from(storage),
            LogError::BadStoredHead(_) | LogError::NoHead => ApiError::internal(message),
        }
    }
}

/// Public and cacheable for `seconds`; a proof against a stored head never changes.
fn cacheable<T: Serialize>(body: T, seconds: u64) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={seconds}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// A year: answers about a signed head never change.
const IMMUTABLE_SECS: u64 = 365 * 24 * 60 * 60;

/// `GET /api/v1/log/head`
#[utoipa::path(
    get,
    path = "/api/v1/log/head",
    tag = "log",
    summary = "The latest signed tree head of the consent log",
    responses((status = 200, description = "The latest signed head", body = HeadBody))
)]
pub async fn latest_head(State(log): State<Arc<ConsentLog>>) -> Result<Response, ApiError> {
    let head = log.latest_head().await?;
    Ok(cacheable(
        HeadBody::from(&head),
        log.interval().as_secs().max(1),
    ))
}

/// `GET /api/v1/log/key`
#[utoipa::path(
    get,
    path = "/api/v1/log/key",
    tag = "log",
    summary = "The public keys that sign the consent log's heads",
    responses((status = 200, description = "The current key first, then retired ones", body = KeysBody))
)]
pub async fn keys(State(log): State<Arc<ConsentLog>>) -> Response {
    use base64::Engine as _;
    let keys = log
        .verifiers()
        .iter()
        .enumerate()
        .map(|(position, verifier)| KeyBody {
            name: verifier.name.clone(),
            key_id: verifier.key_id_hex(),
            algorithm: "ed25519",
            public_key: base64::engine::general_purpose::STANDARD.encode(verifier.key.as_bytes()),
            verifier_key: verifier.verifier_key(),
            current: position == 0,
        })
        .collect();
    cacheable(KeysBody { keys }, 3600)
}

/// `GET /api/v1/log/inclusion?event_id=…[&tree_size=N]`
#[utoipa::path(
    get,
    path = "/api/v1/log/inclusion",
    tag = "log",
    summary = "A decision's inclusion proof against a signed head",
    params(InclusionQuery),
    responses(
        (status = 200, description = "The leaf and its audit path", body = InclusionBody),
        (status = 400, description = "`invalid_query`: a malformed or unknown parameter", body = crate::error::ErrorBody),
        (status = 404, description = "`log_entry_not_found`: no such decision; `log_head_not_found`: no head of that size", body = crate::error::ErrorBody),
        (status = 409, description = "`log_entry_not_yet_signed`: logged after the latest head; see `Retry-After`", body = crate::error::ErrorBody)
    )
)]
pub async fn inclusion(
    State(log): State<Arc<ConsentLog>>,
    AppQuery(query): AppQuery<InclusionQuery>,
) -> Result<Response, ApiError> {
    let proof = log.inclusion(query.event_id, query.tree_size).await?;
    let body = InclusionBody {
        event_id: query.event_id,
        leaf_index: proof.leaf.index,
        leaf_hash: base64_hash(proof.leaf_hash),
        leaf_data: proof.leaf.leaf.data(),
        tree_size: proof.head.head.size,
        root_hash: base64_hash(proof.head.head.root),
        audit_path: proof.audit_path.into_iter().map(base64_hash).collect(),
        checkpoint: proof.head.note,
    };
    let seconds = if query.tree_size.is_some() {
        IMMUTABLE_SECS
    } else {
        log.interval().as_secs().max(1)
    };
    Ok(cacheable(body, seconds))
}

/// `GET /api/v1/log/consistency?first=N&second=M`
#[utoipa::path(
    get,
    path = "/api/v1/log/consistency",
    tag = "log",
    summary = "The proof that an earlier tree is a prefix of a later one",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The two roots and the proof", body = ConsistencyBody),
        (status = 400, description = "`invalid_log_range`: not 1 <= first <= second <= the latest head's size; `invalid_query`: a malformed or unknown parameter", body = crate::error::ErrorBody)
    )
)]
pub async fn consistency(
    State(log): State<Arc<ConsentLog>>,
    AppQuery(query): AppQuery<ConsistencyQuery>,
) -> Result<Response, ApiError> {
    let proof = log.consistency(query.first, query.second).await?;
    Ok(cacheable(
        ConsistencyBody {
            first: proof.first,
            second: proof.second,
            first_root: base64_hash(proof.first_root),
            second_root: base64_hash(proof.second_root),
            proof: proof.proof.into_iter().map(base64_hash).collect(),
        },
        IMMUTABLE_SECS,
    ))
}
