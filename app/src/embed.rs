//! The banner and the preference center rendered for another ZecCloud site's page: the same
//! components as on the service's own pages, as HTML fragments the embed loader puts into a
//! shadow root. Links point back at the service, since they would otherwise resolve against
//! the host page.

use crate::domain::ConsentStatus;
use crate::widgets::{BannerBody, Place, PreferenceDialog, ServiceBase};
use leptos::prelude::*;

fn render(base: &str, view: impl FnOnce() -> AnyView) -> String {
    crate::render_html(|| {
        provide_context(ServiceBase(base.trim_end_matches('/').to_owned()));
        view()
    })
}

fn absolute(base: &str, mut status: ConsentStatus) -> ConsentStatus {
    if status.policy.notice_url.starts_with('/') {
        status.policy.notice_url =
            format!("{}{}", base.trim_end_matches('/'), status.policy.notice_url);
    }
    status
}

/// The first layer, exactly as the service's pages show it. The server keeps what this returns
/// per `BannerKey` (`server/src/http/embed_assets.rs`): a banner that reads more of `status` than
/// that key holds must add it there.
pub fn banner_html(status: ConsentStatus, base: &str) -> String {
    let status = absolute(base, status);
    render(base, move || view! { <BannerBody status/> }.into_any())
}

/// The preference center as a dialog, for the loader to open with `showModal()`.
pub fn preferences_html(status: ConsentStatus, base: &str) -> String {
    let status = absolute(base, status);
    render(base, move || {
        view! { <PreferenceDialog status place=Place::Embed/> }.into_any()
    })
}
