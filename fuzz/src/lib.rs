//! What the fuzz targets share: the embedded default policy, a token signer, and the step every
//! decoded decision goes through in the service (`ConsentService::record_in`) short of storage.

use app::domain::{ConsentRequest, Decision, Policy};
use secrecy::SecretSlice;
use server::domain::claims::CONSENT_AUDIENCE;
use server::domain::{ConsentClaims, banner_text_hash};
use server::infra::tokens::TokenSigner;
use std::sync::OnceLock;

/// The policy the service publishes on its first start.
pub fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        Policy::from_toml(app::DEFAULT_POLICY_TOML).expect("the default policy loads")
    })
}

/// A signer with a fixed key, so inputs signed by it in a seed stay valid.
pub fn signer() -> &'static TokenSigner {
    static SIGNER: OnceLock<TokenSigner> = OnceLock::new();
    SIGNER.get_or_init(|| TokenSigner::new(&SecretSlice::from(vec![7u8; 32])))
}

/// A decision as the service records it: the language it was shown in, checked against the
/// policy, the banner text hashed, the consent cookie signed and read back.
pub fn record(request: ConsentRequest) {
    let policy = policy();
    let language = request
        .language
        .clone()
        .filter(|language| policy.banner.contains_key(language))
        .unwrap_or_else(|| policy.default_language.clone());
    let gpc = request.action == app::domain::ConsentAction::Gpc;
    let Ok(decision) = Decision::validate(policy, request) else {
        return;
    };
    for category in &policy.categories {
        let state = decision.categories.get(&category.id);
        if category.required() {
            assert_eq!(state, Some(&true), "a necessary category is always granted");
        } else if !gpc {
            assert!(state.is_some(), "every optional category is decided");
        }
    }
    let shown = policy.view(&language, Some("zeccloud.com"));
    let _ = banner_text_hash(&shown);
    let _ = decision.refused().count();
    let now = chrono::Utc::now().timestamp();
    let claims = ConsentClaims::new(
        &decision,
        "0190b7e2-0000-7000-8000-000000000000".into(),
        "0123456789abcdef01234567".into(),
        now,
        3600,
    );
    let token = signer().sign(&claims);
    let back = signer()
        .verify::<ConsentClaims>(&token, CONSENT_AUDIENCE)
        .expect("a cookie just signed verifies");
    assert!(back.is_bound_to("0123456789abcdef01234567"));
    assert_eq!(back.into_current().categories, decision.category_states());
}
