//! The service's tokens: SSAID and consent cookies as a request's `Cookie` header carries them,
//! verified with the service's signer; and claims of any shape signed with the right key, so
//! what comes after the signature check (the claims' decoding and checks) is reached too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use server::infra::cookies::{CONSENT_COOKIE, SSAID_COOKIE, SSAID_HOST_COOKIE, read};
use server::domain::claims::{CONSENT_AUDIENCE, ISSUER, SSAID_AUDIENCE};
use server::domain::{ConsentClaims, Ssaid, SsaidClaims};
use server::infra::tokens::TokenSigner;

fuzz_target!(|data: &[u8]| {
    let signer = server_fuzz::signer();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Ssaid::parse(text);
    verify(signer, text);
    // As a `Cookie` header: each of the service's cookies read and verified.
    if let Ok(value) = http::HeaderValue::from_str(text) {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::COOKIE, value);
        for name in [SSAID_COOKIE, SSAID_HOST_COOKIE, CONSENT_COOKIE] {
            if let Some(token) = read(&headers, name) {
                verify(signer, &token);
            }
        }
    }
    // As the claims of a token we signed ourselves.
    if let Ok(claims) = serde_json::from_str::<serde_json::Value>(text) {
        verify(signer, &signer.sign(&claims));
    }
});

fn verify(signer: &TokenSigner, token: &str) {
    let _ = signer.is_signed_by_current_key(token);
    match signer.verify::<SsaidClaims>(token, SSAID_AUDIENCE) {
        Ok(claims) => {
            assert_eq!(
                (claims.iss.as_str(), claims.aud.as_str()),
                (ISSUER, SSAID_AUDIENCE)
            );
            assert!(Ssaid::parse(claims.sub.as_str()).is_ok());
            // As the visitor extractor and the logs use them.
            let _ = chrono::DateTime::from_timestamp(claims.iat, 0).unwrap_or_default();
            let _ = format!("{claims:?}");
        }
        Err(rejection) => {
            let _ = (rejection.as_str(), rejection.is_forgery());
        }
    }
    if let Ok(claims) = signer.verify::<ConsentClaims>(token, CONSENT_AUDIENCE) {
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            (ISSUER, CONSENT_AUDIENCE)
        );
        let _ = claims.into_current();
    }
}
