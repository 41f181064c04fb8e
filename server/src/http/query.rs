//! `Params`: a query string read strictly: every parameter named once, none unknown.

use crate::error::ApiError;
use app::ErrorCode;
use axum::extract::FromRequestParts;
use http::request::Parts;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let mut params = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            if params
                .insert(name.clone().into_owned(), value.into_owned())
                .is_some()
            {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("{name} is given more than once"),
                ));
            }
        }
        Ok(Self(params))
    }

    /// Takes a parameter. An empty value is a value (`?days=` is not a number of days), for
    /// the parser of that parameter to refuse.
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    /// Refuses what was not taken: a misspelt parameter is an error, not a silent default.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.0.into_keys().next() {
            None => Ok(()),
            Some(unknown) => Err(ApiError::new(
                ErrorCode::UnknownParameter,
                format!("unknown query parameter {unknown:?}"),
            )),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Self::parse(parts.uri.query().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_taken_once_and_unknown_ones_refused() {
        let mut params = Params::parse("days=30&q=a%20b&empty=").unwrap();
        assert_eq!(params.take("days").as_deref(), Some("30"));
        assert_eq!(params.take("q").as_deref(), Some("a b"));
        assert_eq!(params.take("empty").as_deref(), Some(""));
        assert_eq!(params.take("absent"), None);
        assert!(params.finish().is_ok());

        let mut params = Params::parse("days=30&dayz=90").unwrap();
        params.take("days");
        assert_eq!(
            params.finish().unwrap_err().code(),
            ErrorCode::UnknownParameter
        );
        assert_eq!(
            Params::parse("days=30&days=90").unwrap_err().code(),
            ErrorCode::InvalidParameter
        );
    }
}
