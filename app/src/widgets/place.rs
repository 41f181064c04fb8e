//! Where a widget is shown: on the service's own pages, in their dialog, or inside another
//! site's page, where every link must name the service.

use crate::{EXTERNAL_TRANSMISSION_PATH, PREFERENCES_PATH};
use leptos::prelude::*;

/// The link to the preference center, in the visitor's language; absolute when embedded.
pub fn preferences_href(language: &str) -> String {
    format!("{}{PREFERENCES_PATH}?lang={language}", service_base())
}

/// The link to the external-transmission page, in the language the link is read in (the page
/// itself defaults to Japanese); absolute when embedded.
pub fn external_transmission_href(language: &str) -> String {
    format!(
        "{}{EXTERNAL_TRANSMISSION_PATH}?lang={language}",
        service_base()
    )
}

/// The service's origin when rendered for another site's page (links must not resolve against
/// the host page); empty on the service's own pages.
#[derive(Debug, Clone)]
pub struct ServiceBase(pub String);

pub fn service_base() -> String {
    use_context::<ServiceBase>()
        .map(|base| base.0)
        .unwrap_or_default()
}

/// Where a preference center is shown. Its element ids carry the place (`zc-page-current`,
/// `zc-dialog-category-analytics`), so they stay unique where two could be on one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The `/preferences` page.
    Page,
    /// The dialog on the service's other pages.
    Dialog,
    /// The dialog on another site's page.
    Embed,
}

impl Place {
    /// The part of element ids after `zc-`.
    pub fn id_prefix(self) -> &'static str {
        match self {
            Place::Page => "page",
            Place::Dialog => "dialog",
            Place::Embed => "embed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_ids_name_the_place_as_the_browser_tests_expect() {
        assert_eq!(
            [Place::Page, Place::Dialog, Place::Embed].map(Place::id_prefix),
            ["page", "dialog", "embed"]
        );
    }

    #[test]
    fn preference_links_keep_the_language() {
        assert_eq!(preferences_href("ja"), "/preferences?lang=ja");
        assert_eq!(
            external_transmission_href("ko"),
            "/external-transmission?lang=ko"
        );
    }
}
