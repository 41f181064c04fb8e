//! `ConsentId`: the consent id in a path (`…/{id}/…`), as receipts name it.

use crate::error::ApiError;
use app::ErrorCode;
use axum::extract::{FromRequestParts, Path};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use uuid::Uuid;

/// A decision's id from the route's one path parameter: a UUID, else 400 `invalid_consent_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentId(pub Uuid);

impl ConsentId {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        Uuid::parse_str(raw).map(Self).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidConsentId,
                format!("{raw:?} is not a consent id (a UUID)"),
            )
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ConsentId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Self::parse(&raw).map_err(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consent_id_is_a_uuid() {
        let id = Uuid::new_v4();
        assert_eq!(ConsentId::parse(&id.to_string()).unwrap(), ConsentId(id));
        assert_eq!(
            ConsentId::parse("receipt-1").unwrap_err().code(),
            ErrorCode::InvalidConsentId
        );
    }
}
