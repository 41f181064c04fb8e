#![forbid(unsafe_code)]
//! ZecCloud Consent: pages, the consent banner and the server functions behind it.
//! Built with `ssr` into the server binary and with `hydrate` into the WASM bundle.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod banner;
mod browser;
pub mod consent_api;
pub mod domain;
mod pages;

use consent_api::{RecordConsent, UiError, get_consent_status};
use domain::{ConsentAction, ConsentStatus};

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The policy used when no `policy_file` is configured.
#[cfg(feature = "ssr")]
pub const DEFAULT_POLICY_TOML: &str = include_str!("../policy/default-policy.toml");

/// The name cargo-leptos gives the CSS, JS and WASM files under `/pkg`.
pub const SITE_NAME: &str = "zeccloud-consent";

/// The preference center, reachable from every page.
pub const PREFERENCES_PATH: &str = "/preferences";

/// The visitor's consent as every component sees it: the status the page was rendered with,
/// and the action that records a new decision.
#[derive(Clone, Copy)]
pub struct ConsentContext {
    pub status: Resource<Result<ConsentStatus, UiError>>,
    pub record: ServerAction<RecordConsent>,
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
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
    // Effects run only in the browser: tests and styles can tell a hydrated page apart.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));

    let record = ServerAction::<RecordConsent>::new();
    // Blocking: the HTML is sent once the visitor's status is known, so a banner that is needed
    // is in the first response, which also makes it work with JavaScript off.
    let status = Resource::new_blocking(|| (), |()| get_consent_status());
    provide_context(ConsentContext { status, record });

    // After a refusal, the storage keys of the refused categories go too.
    Effect::new(move || {
        if let Some(Ok(choice)) = record.value().get() {
            browser::clear_storage(&choice.clear_storage);
        }
    });
    // Browsers that expose GPC only to scripts (no Sec-GPC header) get the same default.
    Effect::new(move || {
        let Some(Ok(status)) = status.get() else {
            return;
        };
        let untouched =
            record.value().get_untracked().is_none() && !record.pending().get_untracked();
        if status.current.is_none() && untouched && browser::global_privacy_control() {
            record.dispatch(RecordConsent {
                policy_version: Some(status.policy.version.clone()),
                action: Some(ConsentAction::Gpc.as_str().to_owned()),
                categories: None,
                language: Some(status.policy.language.clone()),
                from: None,
            });
        }
    });

    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{SITE_NAME}.css")/>
        <Title text="ZecCloud Consent"/>
        <div id="zc-app" data-hydrated=move || hydrated.get().to_string()>
            <Router>
                <header class="zc-header">
                    <a class="zc-brand" href="/">"ZecCloud Consent"</a>
                    <nav>
                        <a href="/notice">"Data Protection Notice"</a>
                        " "
                        <a href=PREFERENCES_PATH>"Privacy settings"</a>
                    </nav>
                </header>
                <main class="zc-main">
                    <Routes fallback=pages::NotFound>
                        // In-order streaming puts the banner into the HTML itself, not into a
                        // template that only a script can reveal: it must work with JS off.
                        <Route path=path!("/") view=pages::HomePage ssr=SsrMode::InOrder/>
                        <Route path=path!("/notice") view=pages::NoticePage ssr=SsrMode::InOrder/>
                        <Route path=path!("/preferences") view=pages::PreferencesPage ssr=SsrMode::InOrder/>
                    </Routes>
                </main>
                <footer class="zc-footer">
                    <a href="/notice">"Data Protection Notice"</a>
                    <a href="/notice#identifiers">"Cookies and identifiers"</a>
                    <a href=PREFERENCES_PATH data-testid="privacy-settings">"Privacy settings"</a>
                </footer>
                <banner::ConsentBanner/>
            </Router>
        </div>
    }
}
