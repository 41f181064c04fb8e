#![forbid(unsafe_code)]
//! ZecCloud Consent: pages, the consent banner and the server functions behind it.
//! Built with `ssr` into the server binary and with `hydrate` into the WASM bundle.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod banner;
pub mod consent_api;
#[cfg(feature = "ssr")]
pub mod console;
pub mod delivery;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod embed;
pub mod enhance;
mod error_code;
pub mod i18n;
#[cfg(feature = "ssr")]
pub mod not_saved;
mod pages;
pub mod preference_center;
pub mod widgets;

pub use error_code::ErrorCode;

use consent_api::{UiError, get_consent_status};
use domain::ConsentStatus;
use widgets::{PagePath, PageStatus, WithStatus};

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The policy used when no `policy_file` is configured.
#[cfg(feature = "ssr")]
pub const DEFAULT_POLICY_TOML: &str = include_str!("../policy/default-policy.toml");

/// What a 503 tells the client to wait before trying again, in seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

/// A view rendered to HTML outside any request: the embed's fragments and the server-only
/// documents (the console, the not-saved page). `view` runs inside the owner, so it may
/// provide context.
#[cfg(feature = "ssr")]
pub(crate) fn render_html<V: IntoView + 'static>(view: impl FnOnce() -> V) -> String {
    let root = std::sync::Arc::new(hydration_context::SsrSharedContext::new());
    Owner::new_root(Some(root)).with(|| view().to_html())
}

/// The name cargo-leptos gives the CSS, JS and WASM files under `/pkg`.
pub const SITE_NAME: &str = "zeccloud-consent";

/// The preference center, reachable from every page.
pub const PREFERENCES_PATH: &str = "/preferences";

/// What ZecCloud's sites make the visitor's browser send elsewhere, as Japan's
/// Telecommunications Business Act asks to publish (Art. 27-12, 外部送信規律).
pub const EXTERNAL_TRANSMISSION_PATH: &str = "/external-transmission";

/// The pages `<Routes>` below renders, for the server to route to the app. They are listed
/// because the routes sit inside the page's one `<Suspense>`, where route discovery
/// (`generate_route_list`) cannot see them; every one is covered by the integration tests.
pub const PAGE_PATHS: [&str; 4] = ["/", "/notice", PREFERENCES_PATH, EXTERNAL_TRANSMISSION_PATH];

/// The language a page is shown in when the visitor made no choice of their own (`?lang=`, the
/// remembered `zc_lang`), ahead of the browser's `Accept-Language`. The external-transmission
/// page is a disclosure Japanese law asks of ZecCloud, for visitors in Japan: it is published
/// in Japanese, and other languages are a choice away (its switcher, or a link that names one).
pub fn page_default_language(path: &str) -> Option<&'static str> {
    (path == EXTERNAL_TRANSMISSION_PATH).then_some("ja")
}

/// The language of the page being rendered, for `<html lang>`: the same negotiation the
/// consent status uses (`?lang=`, `zc_lang`, the page's own language, `Accept-Language`,
/// English).
fn request_language() -> &'static str {
    #[cfg(feature = "ssr")]
    if let Some(backend) = use_context::<backend::SharedBackend>() {
        return backend.language();
    }
    domain::language::DEFAULT_LANGUAGE
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        // All five languages are written left to right.
        <html lang=request_language() dir="ltr">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Islands: one prop-less island (`enhance.rs`) hydrates, beside the consent
                // forms it enhances; the rest of a page, the banner, the preference center and
                // the footer's settings link included, is HTML that ships no component code.
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Blocking: the HTML is sent once the visitor's status is known, so a banner that is needed
    // is in the first response, which also makes it work with JavaScript off.
    let status = Resource::new_blocking(|| (), |()| get_consent_status());
    provide_context(PageStatus(status));

    // The page's parts (the consent layer, header, pages, footer) and `WithStatus` return
    // `AnyView`: the view types stay within the compiler's default recursion limit, and a debug
    // build renders a page in under 1 MiB of stack (threads get 2 MiB).
    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{SITE_NAME}.css")/>
        <Title text="ZecCloud Consent"/>
        <div id="zc-app">
            <Router>
                // One Suspense for the whole page: a resource read in several Suspense
                // boundaries can leave an SSR response hanging under load
                // (leptos-rs/leptos#4851). Components read the status in plain closures.
                <Suspense>
                // First in the document: keyboard and screen-reader users meet the banner
                // first; it is a fixed overlay, so its place in the markup moves nothing on
                // screen.
                <ConsentLayer/>
                <SiteHeader/>
                <main class="zc-main">
                    <Routes fallback=pages::NotFound>
                        // In-order streaming puts the banner into the HTML itself, not into a
                        // template that only a script can reveal: it must work with JS off.
                        <Route path=path!("/") view=pages::HomePage ssr=SsrMode::InOrder/>
                        <Route path=path!("/notice") view=pages::NoticePage ssr=SsrMode::InOrder/>
                        <Route
                            path=path!("/preferences")
                            view=preference_center::PreferencesPage
                            ssr=SsrMode::InOrder
                        />
                        <Route
                            path=path!("/external-transmission")
                            view=pages::ExternalTransmissionPage
                            ssr=SsrMode::InOrder
                        />
                    </Routes>
                </main>
                <SiteFooter/>
                </Suspense>
            </Router>
        </div>
    }
}

/// The banner, the privacy-settings button and the preference dialog, in the one island that
/// records choices from them. Not on `/preferences`: that page is the center itself, with no
/// banner or button on top of it.
///
/// GPC needs nothing here: the server records it from the browser's `Sec-GPC` header, which
/// every browser that exposes `navigator.globalPrivacyControl` also sends; a page cannot claim it.
#[component]
fn ConsentLayer() -> impl IntoView {
    let path = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    view! {
        <WithStatus let:status>
            {(path != PREFERENCES_PATH).then(|| {
                provide_context(PagePath(path.clone()));
                view! {
                    <widgets::ConsentForms>
                        <banner::ConsentBanner status=status.clone()/>
                        <widgets::PreferenceDialog status=status.clone() place=widgets::Place::Dialog/>
                    </widgets::ConsentForms>
                }
            })}
        </WithStatus>
    }
    .into_any()
}

/// The language the consent status resolved, once known.
fn page_language(status: Resource<Result<ConsentStatus, UiError>>) -> Option<String> {
    status.try_get().flatten().map(|result| match result {
        Ok(status) => status.policy.language,
        Err(_) => domain::language::DEFAULT_LANGUAGE.to_owned(),
    })
}

#[component]
fn SiteHeader() -> impl IntoView {
    let PageStatus(status) = expect_context();
    view! {
        <header class="zc-header">
            <a class="zc-brand" href="/">"ZecCloud Consent"</a>
                {move || {
                    page_language(status)
                        .map(|language| {
                            let ui = i18n::ui_text(&language);
                            view! {
                                <nav aria-label=ui.privacy_settings>
                                    <a href="/notice">{ui.notice}</a>
                                    <a href=widgets::preferences_href(&language)>{ui.privacy_settings}</a>
                                </nav>
                            }
                        })
                }}
        </header>
    }
    .into_any()
}

#[component]
fn SiteFooter() -> impl IntoView {
    let PageStatus(status) = expect_context();
    view! {
        <footer class="zc-footer">
                {move || {
                    page_language(status)
                        .map(|language| {
                            let ui = i18n::ui_text(&language);
                            view! {
                                <a href="/notice">{ui.notice}</a>
                                <a href="/notice#identifiers">{ui.cookies_and_identifiers}</a>
                                <a href=widgets::external_transmission_href(&language)>
                                    {ui.external_transmission}
                                </a>
                                <preference_center::PrivacySettingsLink language/>
                            }
                        })
                }}
        </footer>
    }
    .into_any()
}
