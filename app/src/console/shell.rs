//! A console page as a whole document: the head, the header with the navigation, and the page
//! itself, chosen by its [`ConsolePage`]. Rendered on the server only: the console is links,
//! plain forms and server-drawn SVG charts, so no WASM is sent for it.

use super::export::ExportPage;
use super::identifiers::{IdentifierDraftView, IdentifiersView, ScanView};
use super::log::LogView;
use super::model::ConsolePage;
use super::operations::OperationsView;
use super::overview::OverviewPage;
use super::policies::PoliciesView;
use super::proof::ProofPage;
use super::sign_in::SignIn;
use super::{
    CONSOLE_PATH, EXPORT_PATH, IDENTIFIERS_PATH, LOG_PATH, OPERATIONS_PATH, POLICIES_PATH,
    PROOF_PATH, SIGN_OUT_PATH,
};
use crate::SITE_NAME;
use leptos::prelude::*;

/// A console page as a whole HTML document: no script, not even the visitors' WASM.
pub fn console_document(page: ConsolePage) -> String {
    crate::render_html(|| console_shell(page))
}

fn console_shell(page: ConsolePage) -> impl IntoView {
    let title = format!("{} · ZecCloud Consent console", page.title());
    view! {
        <!DOCTYPE html>
        <html lang="en" dir="ltr">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="robots" content="noindex"/>
                <title>{title}</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href=format!("/pkg/{SITE_NAME}.css")/>
            </head>
            <body>
                <ConsoleApp page/>
            </body>
        </html>
    }
}

#[component]
pub fn ConsoleApp(page: ConsolePage) -> impl IntoView {
    let title = page.title();
    let signed_in = !matches!(page, ConsolePage::SignIn { .. });
    let body = match page {
        ConsolePage::SignIn { error } => view! { <SignIn error/> }.into_any(),
        ConsolePage::Overview { days, overview } => {
            view! { <OverviewPage days overview/> }.into_any()
        }
        ConsolePage::Proof { query, outcome } => view! { <ProofPage query outcome/> }.into_any(),
        ConsolePage::Export { from, to } => view! { <ExportPage from to/> }.into_any(),
        ConsolePage::Policies(page) => view! { <PoliciesView page/> }.into_any(),
        ConsolePage::Operations(page) => view! { <OperationsView page/> }.into_any(),
        ConsolePage::Log(page) => view! { <LogView page/> }.into_any(),
        ConsolePage::Identifiers(page) => view! { <IdentifiersView page/> }.into_any(),
        ConsolePage::Scan(page) => view! { <ScanView page/> }.into_any(),
        ConsolePage::IdentifierDraft { kind, name, toml } => {
            view! { <IdentifierDraftView kind name toml/> }.into_any()
        }
    };
    view! {
        <div id="zc-console" class="zc-console">
            <header class="zc-header">
                <a class="zc-brand" href=CONSOLE_PATH>"ZecCloud Consent · console"</a>
                {signed_in.then(|| view! { <ConsoleNav current=title/> })}
            </header>
            <main class="zc-main zc-console__main">
                <h1>{title}</h1>
                {body}
            </main>
        </div>
    }
}

#[component]
fn ConsoleNav(current: &'static str) -> impl IntoView {
    let link = move |href: &'static str, label: &'static str| {
        let here = (label == current).then_some("page");
        view! { <a href=href aria-current=here>{label}</a> }
    };
    view! {
        <nav aria-label="Console">
            {link(CONSOLE_PATH, "Overview")}
            {link(PROOF_PATH, "Proof of consent")}
            {link(POLICIES_PATH, "Policies")}
            {link(OPERATIONS_PATH, "Operations")}
            {link(LOG_PATH, "Consent log")}
            {link(IDENTIFIERS_PATH, "Undeclared identifiers")}
            {link(EXPORT_PATH, "Export")}
            <form method="post" action=SIGN_OUT_PATH class="zc-console__sign-out">
                <button type="submit" class="zc-btn zc-btn--secondary zc-btn--small">
                    "Sign out"
                </button>
            </form>
        </nav>
    }
}
