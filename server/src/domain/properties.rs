//! Property tests for everything that parses what visitors, other sites and back ends send:
//! whatever the input, an answer (a value or an error), never a panic.

use super::network::{TrustedProxies, client_network, truncate_ip};
use super::tracking::{BulkRequest, TrackingHit};
use super::{Ssaid, SsaidClaims, TerminalType};
use crate::domain::claims::SSAID_AUDIENCE;
use crate::tokens::TokenSigner;
use proptest::prelude::*;
use secrecy::SecretSlice;
use std::net::IpAddr;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tracking_queries_parse_or_are_refused(query in ".{0,300}") {
        let _ = TrackingHit::parse(&query);
    }

    #[test]
    fn tracking_queries_of_plausible_pairs_parse_or_are_refused(
        pairs in proptest::collection::vec(("[a-z_]{1,8}", "[%0-9A-Za-z+=&]{0,12}"), 0..12)
    ) {
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if let Ok(hit) = TrackingHit::parse(&query.join("&")) {
            // What parsed is forwardable as a query again.
            prop_assert!(TrackingHit::parse(&hit.to_query()).is_ok());
        }
    }

    #[test]
    fn bulk_bodies_parse_or_are_refused(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = BulkRequest::parse(&body);
    }

    #[test]
    fn bulk_json_of_any_shape_parses_or_is_refused(
        requests in proptest::collection::vec(".{0,60}", 0..6),
        send_image in any::<bool>()
    ) {
        let body = serde_json::json!({ "requests": requests, "send_image": send_image });
        let _ = BulkRequest::parse(body.to_string().as_bytes());
    }

    #[test]
    fn tokens_of_any_text_are_refused_not_panicked_on(token in ".{0,400}") {
        let signer = TokenSigner::new(&SecretSlice::from(vec![7u8; 32]));
        prop_assert!(signer.verify::<SsaidClaims>(&token, SSAID_AUDIENCE).is_err());
    }

    #[test]
    fn tampered_tokens_never_verify(flip in 0usize..200, byte in any::<u8>()) {
        let signer = TokenSigner::new(&SecretSlice::from(vec![7u8; 32]));
        let claims = SsaidClaims::new(Ssaid::from_random_bytes([1; 16]), TerminalType::Desktop,
            chrono::Utc::now().timestamp(), 3600);
        let token = signer.sign(&claims);
        let mut bytes = token.clone().into_bytes();
        let at = flip % bytes.len();
        bytes[at] = byte;
        let tampered = String::from_utf8_lossy(&bytes).into_owned();
        if tampered != token {
            // Base64 has a few encodings of the same bits: a change that decodes to the very
            // same token would verify, and the claims are then exactly the signed ones.
            if let Ok(back) = signer.verify::<SsaidClaims>(&tampered, SSAID_AUDIENCE) {
                prop_assert_eq!(back, claims);
            }
        }
    }

    #[test]
    fn accept_language_of_any_text_picks_a_supported_language(header in ".{0,300}") {
        let mut headers = http::HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_str(&header) {
            headers.insert(http::header::ACCEPT_LANGUAGE, value);
        }
        let uri: http::Uri = "/".parse().unwrap();
        let language = crate::http::language::of_request(&uri, &headers);
        prop_assert!(app::domain::language::supported(language).is_some());
    }

    #[test]
    fn forwarded_chains_of_any_text_name_an_address(
        peer in any::<[u8; 4]>(),
        chain in ".{0,200}",
        trusted in any::<bool>()
    ) {
        let peer = IpAddr::from(peer);
        let proxies = if trusted {
            TrustedProxies::parse(["0.0.0.0/0"]).unwrap()
        } else {
            TrustedProxies::default()
        };
        let visitor = proxies.visitor_address(peer, [chain.as_str()]);
        if !trusted {
            prop_assert_eq!(visitor, peer);
        }
        let _ = (truncate_ip(visitor), client_network(visitor));
    }

    #[test]
    fn policy_files_of_any_text_load_or_are_refused(source in ".{0,400}") {
        let _ = app::domain::Policy::from_toml(&source);
    }
}
