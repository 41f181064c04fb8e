#![forbid(unsafe_code)]
//! ZecCloud Consent: pages, the consent banner and the server functions behind it.
//! Built with `ssr` into the server binary and with `hydrate` into the WASM bundle.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod banner;
pub mod consent_api;
pub mod domain;
mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The policy used when no `policy_file` is configured.
#[cfg(feature = "ssr")]
pub const DEFAULT_POLICY_TOML: &str = include_str!("../policy/default-policy.toml");

/// The name cargo-leptos gives the CSS, JS and WASM files under `/pkg`.
pub const SITE_NAME: &str = "zeccloud-consent";

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

    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{SITE_NAME}.css")/>
        <Title text="ZecCloud Consent"/>
        <div id="zc-app" data-hydrated=move || hydrated.get().to_string()>
            <Router>
                <header class="zc-header">
                    <a class="zc-brand" href="/">"ZecCloud Consent"</a>
                    <nav>
                        <a href="/notice">"Data Protection Notice"</a>
                    </nav>
                </header>
                <main class="zc-main">
                    <Routes fallback=pages::NotFound>
                        // In-order streaming puts the banner into the HTML itself, not into a
                        // template that only a script can reveal: it must work with JS off.
                        <Route path=path!("/") view=pages::HomePage ssr=SsrMode::InOrder/>
                        <Route path=path!("/notice") view=pages::NoticePage ssr=SsrMode::InOrder/>
                    </Routes>
                </main>
                <footer class="zc-footer">
                    <a href="/notice">"Data Protection Notice"</a>
                </footer>
            </Router>
            <banner::ConsentBanner/>
        </div>
    }
}
