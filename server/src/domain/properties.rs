//! Property tests for everything that parses what visitors, other sites and back ends send:
//! whatever the input, an answer (a value or an error), never a panic.

use super::network::{TrustedProxies, client_network, truncate_ip};
use super::tracking::{BulkRequest, TrackingHit};
use super::{Ssaid, SsaidClaims, TerminalType};
use crate::domain::claims::SSAID_AUDIENCE;
use crate::infra::tokens::TokenSigner;
use app::domain::{ConsentAction, ConsentRequest, Decision, DecisionForm, Policy};
use proptest::prelude::*;
use secrecy::SecretSlice;
use std::net::IpAddr;
use std::sync::OnceLock;

fn default_policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap())
}

/// A decoded decision checked against the policy: refused, or with `necessary` granted and,
/// unless GPC decided, every category decided.
fn decide(request: ConsentRequest) -> Result<(), TestCaseError> {
    let policy = default_policy();
    let gpc = request.action == ConsentAction::Gpc;
    if let Ok(decision) = Decision::validate(policy, request) {
        for category in &policy.categories {
            let state = decision.categories.get(&category.id);
            if category.required() {
                prop_assert_eq!(state, Some(&true));
            } else if !gpc {
                prop_assert!(state.is_some());
            }
        }
    }
    Ok(())
}

/// The body of `POST /api/v1/consent`, read by the handler's extractor (`AppJson`).
fn decide_json(body: &[u8]) -> Result<(), TestCaseError> {
    match axum::Json::<ConsentRequest>::from_bytes(body) {
        Ok(axum::Json(request)) => decide(request),
        Err(rejection) => {
            let _ = crate::error::ApiError::from(rejection).status();
            Ok(())
        }
    }
}

/// A form-encoded decision, read by the endpoints' decoder (`AppForm`) as the embed's and the
/// banner's forms send it.
fn decide_form(body: &[u8]) -> Result<(), TestCaseError> {
    use crate::http::form::decode;
    let _ = decode::<crate::routes::embed::decisions::EmbedDecision>(body);
    if let Ok(form) = decode::<DecisionForm>(body)
        && let Ok(request) = form.into_request(default_policy())
    {
        decide(request)?;
    }
    Ok(())
}

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
    fn consent_json_bodies_decode_or_are_refused(
        body in proptest::collection::vec(any::<u8>(), 0..300)
    ) {
        decide_json(&body)?;
    }

    #[test]
    fn consent_json_of_plausible_shape_is_decided_or_refused(
        current in any::<bool>(),
        action in "accept_all|reject_all|custom|withdraw|gpc|[a-z_]{0,10}",
        categories in proptest::option::of(proptest::collection::btree_map(
            "necessary|preferences|analytics|[a-z_]{1,8}", any::<bool>(), 0..4)),
        language in proptest::option::of("en|ja|ko|zh-Hans|zh-Hant|[a-zA-Z-]{0,8}")
    ) {
        let version = if current { default_policy().version.as_str() } else { "2020-01-01" };
        let body = serde_json::json!({
            "policy_version": version,
            "action": action,
            "categories": categories,
            "language": language,
        });
        decide_json(body.to_string().as_bytes())?;
    }

    #[test]
    fn decision_forms_decode_or_are_refused(body in ".{0,300}") {
        decide_form(body.as_bytes())?;
    }

    #[test]
    fn decision_forms_of_plausible_fields_are_decided_or_refused(
        current in any::<bool>(),
        action in "accept_all|reject_all|custom|withdraw|gpc|[a-z_]{0,10}",
        ticked in proptest::collection::vec("necessary|preferences|analytics|[a-z_]{1,8}", 0..4),
        encoded in any::<bool>(),
        extra in proptest::collection::vec(
            ("language|via|from|[a-z_%\\[\\]]{1,10}", "[%0-9A-Za-z+=_-]{0,12}"), 0..3)
    ) {
        let version = if current { default_policy().version.as_str() } else { "2020-01-01" };
        let mut pairs = vec![format!("policy_version={version}"), format!("action={action}")];
        for name in &ticked {
            pairs.push(if encoded {
                format!("categories%5B{name}%5D=on")
            } else {
                format!("categories[{name}]=on")
            });
        }
        pairs.extend(extra.iter().map(|(k, v)| format!("{k}={v}")));
        decide_form(pairs.join("&").as_bytes())?;
    }

    #[test]
    fn policy_files_of_any_text_load_or_are_refused(source in ".{0,400}") {
        let _ = app::domain::Policy::from_toml(&source);
    }
}
