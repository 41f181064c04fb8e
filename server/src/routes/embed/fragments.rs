//! `/embed/banner` and `/embed/preferences`: the service's own components as HTML fragments,
//! for the loader to put into a shadow root on another site's page.

use crate::error::ApiError;
use crate::http::embed_assets::{BannerKey, EmbedAssets};
use crate::http::{PublicBase, check_origin, with_cookies};
use crate::service::{ConsentService, RequestContext};
use crate::state::AppState;
use app::domain::{AppliedJurisdiction, ConsentStatus, CurrentConsent, PromptReason};
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, header};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a fragment request needs, read from the request and the state by reference: the
/// handler is on every first visit's path, and cloning the whole `AppState` and the request's
/// headers for it showed in the profile.
pub struct FragmentRequest {
    context: RequestContext,
    base: String,
    consent: Arc<ConsentService>,
    assets: Arc<EmbedAssets>,
    site_root: Arc<str>,
    /// `style=1`: the loader has no stylesheet yet and wants it in the answer, which saves a
    /// first visit the round trip to `/embed/style.HASH.css`.
    with_style: bool,
}

impl FromRequestParts<AppState> for FragmentRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        check_origin(&state.edge, &parts.headers, false)?;
        let context = RequestContext::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let PublicBase(base) = PublicBase::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let with_style = parts
            .uri
            .query()
            .is_some_and(|query| query.split('&').any(|pair| pair == "style=1"));
        Ok(Self {
            context,
            base,
            consent: Arc::clone(&state.consent),
            assets: Arc::clone(&state.embed),
            site_root: Arc::clone(&state.leptos_options.site_root),
            with_style,
        })
    }
}

/// A component as a fragment for a shadow root, with the visitor's standing decision.
// `html` and `style` hold JSON strings already (`"…"`): the cached banner and stylesheet are
// copied into the answer, not escaped again (`fragment_json`).
#[derive(Debug, utoipa::ToSchema)]
#[schema(example = fragment_example)]
pub struct Fragment<'a> {
    /// Whether the visitor must be asked (the banner is shown).
    pub needs_prompt: bool,
    /// The standing decision, if the visitor has one.
    #[schema(value_type = Option<CurrentConsent>)]
    pub consent: Option<&'a CurrentConsent>,
    /// Where the visitor is and the regime that applies there: under opt-out and notice the
    /// optional categories are on before any decision.
    #[schema(value_type = AppliedJurisdiction)]
    pub jurisdiction: &'a AppliedJurisdiction,
    /// Each category's state now, in that regime: what the page may load (the loader runs
    /// the blocked scripts of granted categories even before the visitor decides).
    #[schema(schema_with = app::domain::schema::category_states)]
    pub granted: &'a BTreeMap<String, bool>,
    /// The component's markup for a shadow root: the preference center always, the banner
    /// only while the visitor must be asked (null otherwise).
    #[schema(value_type = Option<String>)]
    pub html: Option<&'a str>,
    /// The URL of the shadow root's stylesheet (`/embed/style.HASH.css`, immutable).
    #[schema(value_type = String)]
    pub css: &'a str,
    /// With `style=1` and markup: the stylesheet's text itself; absent otherwise.
    #[schema(value_type = Option<String>)]
    pub style: Option<&'a str>,
}

/// A first visit's banner in an opt-out jurisdiction, for the document.
fn fragment_example() -> serde_json::Value {
    serde_json::json!({
        "needs_prompt": true,
        "consent": null,
        "jurisdiction": {
            "name": "united_states",
            "country": "US",
            "regime": "opt_out",
            "source": "header",
            "show_collection_details": false
        },
        "granted": {"necessary": true, "preferences": true, "analytics": true},
        "html": "<section role=\"region\" aria-labelledby=\"zc-banner-title\" data-testid=\"consent-banner\" data-regime=\"opt_out\" lang=\"en\" class=\"zc-banner\">…</section>",
        "css": "https://consent.zeccloud.com/embed/style.3f9a0c1d2e4b.css"
    })
}

/// The answer's JSON, written by hand around the pre-encoded `html` and `style`.
fn fragment_json(answer: &Fragment<'_>) -> String {
    let Fragment {
        needs_prompt,
        consent,
        jurisdiction,
        granted,
        html,
        css,
        style,
    } = *answer;
    let consent = serde_json::to_string(&consent).expect("consent serialises");
    let jurisdiction = serde_json::to_string(jurisdiction).expect("a jurisdiction serialises");
    let granted = serde_json::to_string(granted).expect("grants serialise");
    let css = serde_json::to_string(css).expect("a string serialises");
    let html = html.unwrap_or("null");
    let style_len = style.map_or(0, str::len);
    let mut json = String::with_capacity(
        120 + consent.len()
            + jurisdiction.len()
            + granted.len()
            + html.len()
            + css.len()
            + style_len,
    );
    json.push_str(r#"{"needs_prompt":"#);
    json.push_str(if needs_prompt { "true" } else { "false" });
    json.push_str(r#","consent":"#);
    json.push_str(&consent);
    json.push_str(r#","jurisdiction":"#);
    json.push_str(&jurisdiction);
    json.push_str(r#","granted":"#);
    json.push_str(&granted);
    json.push_str(r#","html":"#);
    json.push_str(html);
    json.push_str(r#","css":"#);
    json.push_str(&css);
    if let Some(style) = style {
        json.push_str(r#","style":"#);
        json.push_str(style);
    }
    json.push('}');
    json
}

/// What [`app::embed::banner_html`] renders for `status`, by the key it is cached under.
fn banner_key(status: &ConsentStatus, base: &str) -> BannerKey {
    BannerKey {
        version: status.policy.version.clone(),
        language: status.policy.language.clone(),
        base: base.to_owned(),
        notice_changed: matches!(status.prompt, Some(PromptReason::NoticeChanged)),
        gpc_applied: status.gpc_applied(),
        regime: status.jurisdiction.regime,
        show_collection_details: status.jurisdiction.show_collection_details,
    }
}

/// Which layer a route serves: the first layer (only while the visitor must be asked), or
/// the preference center as a dialog (always).
pub const BANNER: bool = false;
pub const PREFERENCES: bool = true;

/// `GET /embed/banner[?lang=][&style=1]`: the first layer, while the visitor must be asked.
#[utoipa::path(
    get,
    path = "/embed/banner",
    tag = "embed",
    summary = "The banner as a fragment for an allowed embedding site",
    params(
        ("lang" = Option<String>, Query, description = "A language of the policy; the visitor's otherwise", example = "en"),
        ("Sec-GPC" = Option<String>, Header, description = "`1`: the browser's Global Privacy Control signal (a `gpc` decision needs it; without a decision it refuses what the policy lets it); other values are no signal", example = "1"),
        ("style" = Option<String>, Query, description = "`1` asks for the stylesheet's text along with any markup (a first visit); other values are ignored", example = "1")
    ),
    responses((status = 200, description = "The banner (null `html` when the standing decision holds)", body = Fragment<'_>))
)]
pub async fn banner(request: FragmentRequest) -> Result<Response, ApiError> {
    fragment::<BANNER>(request).await
}

/// `GET /embed/preferences[?lang=][&style=1]`: the preference center, always.
#[utoipa::path(
    get,
    path = "/embed/preferences",
    tag = "embed",
    summary = "The preference center as a fragment for an allowed embedding site",
    params(
        ("lang" = Option<String>, Query, description = "A language of the policy; the visitor's otherwise", example = "en"),
        ("Sec-GPC" = Option<String>, Header, description = "`1`: the browser's Global Privacy Control signal (a `gpc` decision needs it; without a decision it refuses what the policy lets it); other values are no signal", example = "1"),
        ("style" = Option<String>, Query, description = "`1` asks for the stylesheet's text along with the markup; other values are ignored", example = "1")
    ),
    responses((status = 200, description = "The preference center with the visitor's choices", body = Fragment<'_>))
)]
pub async fn preferences(request: FragmentRequest) -> Result<Response, ApiError> {
    fragment::<PREFERENCES>(request).await
}

/// `GET /embed/banner[?lang=]` ([`BANNER`]) and `GET /embed/preferences[?lang=]`
/// ([`PREFERENCES`]), with `&style=1` for the stylesheet itself along with any markup. The
/// banner is the same for every visitor with the same [`BannerKey`], so it is rendered once
/// per key; the preference center shows the visitor's own choices and is rendered each time.
async fn fragment<const LAYER: bool>(request: FragmentRequest) -> Result<Response, ApiError> {
    let FragmentRequest {
        context,
        base,
        consent,
        assets,
        site_root,
        with_style,
    } = request;
    let status = consent.status(&context).await?;
    let stylesheet = assets
        .css(std::path::Path::new(&*site_root))
        .map_err(ApiError::internal)?;
    let css = format!("{base}/embed/style.{}.css", stylesheet.hash);
    let status_value = status.value;
    let granted = status_value.granted.clone();
    let needs_prompt = status_value.needs_prompt();
    let current = status_value.current.clone();
    let jurisdiction = status_value.jurisdiction.clone();
    let html: Option<Arc<str>> = if LAYER == PREFERENCES {
        let html = app::embed::preferences_html(status_value, &base);
        Some(
            serde_json::to_string(&html)
                .expect("a string serialises")
                .into(),
        )
    } else if needs_prompt {
        Some(assets.banner_json(banner_key(&status_value, &base), || {
            app::embed::banner_html(status_value, &base)
        }))
    } else {
        None
    };
    let style = (with_style && html.is_some()).then(|| &*stylesheet.json);
    let body = fragment_json(&Fragment {
        needs_prompt,
        consent: current.as_ref(),
        jurisdiction: &jurisdiction,
        granted: &granted,
        html: html.as_deref(),
        css: &css,
        style,
    });
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(with_cookies(response.into_response(), status.set_cookies))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::ConsentAction;

    fn status(language: &str) -> ConsentStatus {
        let policy = app::domain::Policy::from_toml(app::DEFAULT_POLICY_TOML)
            .expect("the default policy parses");
        ConsentStatus {
            policy: policy.view(language, None),
            current: None,
            prompt: Some(PromptReason::NoChoice),
            gpc_signal: false,
            jurisdiction: app::domain::AppliedJurisdiction::strictest(),
            granted: Default::default(),
        }
    }

    #[test]
    fn the_answer_is_the_json_it_always_was() {
        let html = serde_json::to_string("<p>\"x\"</p>").unwrap();
        let jurisdiction = app::domain::AppliedJurisdiction::strictest();
        let granted = BTreeMap::from([
            ("necessary".to_owned(), true),
            ("analytics".to_owned(), false),
        ]);
        let answer = |needs_prompt, html, css, style| Fragment {
            needs_prompt,
            consent: None,
            jurisdiction: &jurisdiction,
            granted: &granted,
            html,
            css,
            style,
        };
        let json = fragment_json(&answer(
            true,
            Some(&html),
            "https://c/embed/style.ab.css",
            None,
        ));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "needs_prompt": true,
                "consent": null,
                "jurisdiction": {
                    "name": "default",
                    "country": null,
                    "regime": "opt_in",
                    "source": "unknown",
                    "show_collection_details": false
                },
                "granted": {"necessary": true, "analytics": false},
                "html": "<p>\"x\"</p>",
                "css": "https://c/embed/style.ab.css",
            })
        );
        let value: serde_json::Value =
            serde_json::from_str(&fragment_json(&answer(false, None, "\"odd\"", None))).unwrap();
        assert_eq!(value["html"], serde_json::Value::Null);
        assert_eq!(value["css"], "\"odd\"");
        assert!(value.get("style").is_none());
        let style = serde_json::to_string(":host{all:initial}").unwrap();
        let json = fragment_json(&answer(true, Some(&html), "u", Some(&style)));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["style"], ":host{all:initial}");
    }

    /// Whatever the key leaves out must not change the markup, and whatever it keeps must.
    #[test]
    fn statuses_with_one_key_render_the_same_banner() {
        let base = "https://consent.zeccloud.com";
        let first = status("en");
        let html = app::embed::banner_html(first.clone(), base);

        // An expired choice and a first visit look the same, and so do two jurisdictions with
        // the same regime: the country is shown nowhere.
        let mut elsewhere = first.clone();
        elsewhere.jurisdiction.name = "japan".to_owned();
        elsewhere.jurisdiction.country = Some("JP".to_owned());
        assert_eq!(banner_key(&elsewhere, base), banner_key(&first, base));
        assert_eq!(app::embed::banner_html(elsewhere, base), html);

        let mut expired = first.clone();
        expired.prompt = Some(PromptReason::Expired);
        assert_eq!(banner_key(&expired, base), banner_key(&first, base));
        assert_eq!(app::embed::banner_html(expired, base), html);

        let mut changed = first.clone();
        changed.prompt = Some(PromptReason::NoticeChanged);
        let mut gpc = first.clone();
        gpc.gpc_signal = true;
        let japanese = status("ja");
        let mut opt_out = first.clone();
        opt_out.jurisdiction.regime = app::domain::Regime::OptOut;
        let mut notice = first.clone();
        notice.jurisdiction.regime = app::domain::Regime::Notice;
        let mut korea = first.clone();
        korea.jurisdiction.show_collection_details = true;
        for other in [changed, gpc, japanese, opt_out, notice, korea] {
            assert_ne!(banner_key(&other, base), banner_key(&first, base));
            assert_ne!(app::embed::banner_html(other, base), html);
        }
        assert_ne!(
            app::embed::banner_html(first.clone(), "https://other.example"),
            html
        );

        // A GPC choice on record decides like the signal does.
        let mut recorded = first.clone();
        recorded.current = Some(CurrentConsent {
            policy_version: first.policy.version.clone(),
            categories: Default::default(),
            event_id: "e".to_owned(),
            decided_at: 0,
            action: ConsentAction::Gpc,
        });
        assert!(banner_key(&recorded, base).gpc_applied);
    }
}
