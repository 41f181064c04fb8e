//! What more than one route answers with: cookies set beside an answer, the downloads (a
//! decision's receipt, the audit export) and a published version's identity.

use crate::domain::PolicyRecord;
use crate::service::SignedReceipt;
use crate::service::console::export::{Exporter, body_stream};
use axum::Json;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderValue, header};
use serde::Serialize;

/// The response with `Set-Cookie` headers appended.
pub fn with_cookies(mut response: Response, cookies: Vec<HeaderValue>) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// A signed receipt as a JSON download.
pub fn receipt_download(id: uuid::Uuid, receipt: SignedReceipt) -> Response {
    let filename = format!("attachment; filename=\"consent-receipt-{id}.json\"");
    let mut response = Json(receipt).into_response();
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&filename).expect("a UUID is a valid header value"),
    );
    response
}

/// The audit export as a streamed download.
pub fn export_download(exporter: Exporter) -> Response {
    let filename = format!("attachment; filename=\"{}\"", exporter.file_name());
    let content_type = exporter.content_type();
    let mut response = Body::from_stream(body_stream(exporter)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&filename).expect("dates and extensions are valid header text"),
    );
    response
}

/// A published version's identity, as the policy documents and the admin API give it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "version": "2026-12-07",
    "hash": "sha256:8ae6c310e923784cf670abf2e45f6ba197d0677658cdc7503705b0e2498ca8f4",
    "material": true,
    "published_at": "2026-11-27T09:00:00Z"
}))]
pub struct VersionInfo {
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")]
    pub version: String,
    /// SHA-256 of the policy's canonical JSON.
    #[schema(pattern = "^sha256:[0-9a-f]{64}$")]
    pub hash: String,
    /// A material change: visitors who decided on an earlier version are asked again.
    pub material: bool,
    pub published_at: DateTime<Utc>,
    /// Set when a publish found the same content already published.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unchanged: bool,
}

impl From<&PolicyRecord> for VersionInfo {
    fn from(record: &PolicyRecord) -> Self {
        Self {
            version: record.version.to_string(),
            hash: record.hash.clone(),
            material: record.material,
            published_at: record.published_at,
            unchanged: false,
        }
    }
}
