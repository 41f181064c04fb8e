//! The language of a request: `?lang=`, then the remembered `zc_lang` cookie, then the page's
//! own language if it has one (`app::page_default_language`: Japanese for the
//! external-transmission page), then `Accept-Language`, then English (the rules themselves are
//! in `app::domain::language`).

use crate::infra::cookies;
use app::domain::language::{LANGUAGE_COOKIE, negotiate, supported};
use http::{HeaderMap, Uri};

/// The supported language a request's `?lang=` names: an explicit choice.
pub fn explicit_choice(uri: &Uri) -> Option<&'static str> {
    uri.query().and_then(|query| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "lang")
            .and_then(|(_, value)| supported(&value))
    })
}

/// The language to answer a request in.
pub fn of_request(uri: &Uri, headers: &HeaderMap) -> &'static str {
    let remembered = cookies::read(headers, LANGUAGE_COOKIE);
    let accept = headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(accept_language::parse)
        .unwrap_or_default();
    negotiate(
        explicit_choice(uri)
            .into_iter()
            .chain(remembered.as_deref()),
        app::page_default_language(uri.path())
            .into_iter()
            .chain(accept.iter().map(String::as_str)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_then_cookie_then_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT_LANGUAGE,
            "fr-FR, ko;q=0.8, en;q=0.5".parse().unwrap(),
        );
        let plain: Uri = "/".parse().unwrap();
        assert_eq!(of_request(&plain, &headers), "ko");
        headers.insert(http::header::COOKIE, "a=1; zc_lang=ja".parse().unwrap());
        assert_eq!(of_request(&plain, &headers), "ja");
        let chosen: Uri = "/preferences?x=1&lang=zh-Hant".parse().unwrap();
        assert_eq!(of_request(&chosen, &headers), "zh-Hant");
        assert_eq!(explicit_choice(&chosen), Some("zh-Hant"));
        let unknown: Uri = "/?lang=xx".parse().unwrap();
        assert_eq!(explicit_choice(&unknown), None);
        assert_eq!(of_request(&unknown, &HeaderMap::new()), "en");
    }

    #[test]
    fn the_external_transmission_page_is_japanese_unless_the_visitor_chose() {
        let page: Uri = "/external-transmission".parse().unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(of_request(&page, &headers), "ja");
        // The browser's preference is no choice: the page is a Japanese disclosure.
        headers.insert(
            http::header::ACCEPT_LANGUAGE,
            "ko, en;q=0.5".parse().unwrap(),
        );
        assert_eq!(of_request(&page, &headers), "ja");
        // Every other page still follows the browser.
        assert_eq!(of_request(&"/notice".parse().unwrap(), &headers), "ko");
        let chosen: Uri = "/external-transmission?lang=en".parse().unwrap();
        assert_eq!(of_request(&chosen, &headers), "en");
        headers.insert(http::header::COOKIE, "zc_lang=zh-Hant".parse().unwrap());
        assert_eq!(of_request(&page, &headers), "zh-Hant");
        assert_eq!(of_request(&chosen, &headers), "en");
    }
}
