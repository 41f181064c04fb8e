//! Which language a visitor sees: an explicit choice, else the browser's `Accept-Language`,
//! else English. ZecCloud's visitors read English, Chinese (Simplified and Traditional),
//! Japanese and Korean.

/// The languages the banner and preference center are written in, default first.
pub const SUPPORTED_LANGUAGES: [&str; 5] = ["en", "zh-Hans", "zh-Hant", "ja", "ko"];
pub const DEFAULT_LANGUAGE: &str = "en";

/// The name of each language in itself, for the language switcher.
pub fn native_name(language: &str) -> &'static str {
    match language {
        "zh-Hans" => "简体中文",
        "zh-Hant" => "繁體中文",
        "ja" => "日本語",
        "ko" => "한국어",
        _ => "English",
    }
}

/// The supported language a BCP 47 tag asks for, if any: `zh-CN` and `zh-SG` are written in
/// Simplified characters, `zh-TW`, `zh-HK` and `zh-MO` in Traditional ones.
pub fn supported(tag: &str) -> Option<&'static str> {
    let lower = tag.trim().to_ascii_lowercase();
    let mut subtags = lower.split(['-', '_']);
    let primary = subtags.next()?;
    let rest: Vec<&str> = subtags.collect();
    match primary {
        "en" => Some("en"),
        "ja" => Some("ja"),
        "ko" => Some("ko"),
        "zh" => {
            let traditional = rest
                .iter()
                .any(|subtag| matches!(*subtag, "hant" | "tw" | "hk" | "mo"));
            Some(if traditional { "zh-Hant" } else { "zh-Hans" })
        }
        _ => None,
    }
}

/// The language to show: the first of the explicit choice, then the browser's preferences in
/// their order, that we support; English otherwise.
pub fn negotiate<'a>(
    explicit: impl IntoIterator<Item = &'a str>,
    preferred: impl IntoIterator<Item = &'a str>,
) -> &'static str {
    explicit
        .into_iter()
        .chain(preferred)
        .find_map(supported)
        .unwrap_or(DEFAULT_LANGUAGE)
}

/// The supported language a request's `?lang=` names: an explicit choice.
#[cfg(feature = "ssr")]
pub fn explicit_choice(uri: &http::Uri) -> Option<&'static str> {
    uri.query().and_then(|query| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == "lang")
            .and_then(|(_, value)| supported(value))
    })
}

/// The visitor's language from a request: `?lang=`, then the `zc_lang` cookie, then
/// `Accept-Language`.
#[cfg(feature = "ssr")]
pub fn from_request(uri: &http::Uri, headers: &http::HeaderMap) -> &'static str {
    let query_lang = explicit_choice(uri);
    let cookie_lang = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LANGUAGE_COOKIE)
        .map(|(_, value)| value);
    let accept = headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(accept_language::parse)
        .unwrap_or_default();
    negotiate(
        query_lang.into_iter().chain(cookie_lang),
        accept.iter().map(String::as_str),
    )
}

/// The cookie that remembers an explicit language choice; set only with `preferences` consent.
pub const LANGUAGE_COOKIE: &str = "zc_lang";

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ssr")]
    #[test]
    fn request_language_prefers_query_then_cookie_then_header() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::ACCEPT_LANGUAGE,
            "fr-FR, ko;q=0.8, en;q=0.5".parse().unwrap(),
        );
        let plain: http::Uri = "/".parse().unwrap();
        assert_eq!(from_request(&plain, &headers), "ko");
        headers.insert(http::header::COOKIE, "a=1; zc_lang=ja".parse().unwrap());
        assert_eq!(from_request(&plain, &headers), "ja");
        let chosen: http::Uri = "/preferences?x=1&lang=zh-Hant".parse().unwrap();
        assert_eq!(from_request(&chosen, &headers), "zh-Hant");
        assert_eq!(explicit_choice(&chosen), Some("zh-Hant"));
        let unknown: http::Uri = "/?lang=xx".parse().unwrap();
        assert_eq!(explicit_choice(&unknown), None);
        assert_eq!(from_request(&unknown, &http::HeaderMap::new()), "en");
    }

    #[test]
    fn tags_map_to_the_script_they_are_written_in() {
        assert_eq!(supported("zh-CN"), Some("zh-Hans"));
        assert_eq!(supported("zh"), Some("zh-Hans"));
        assert_eq!(supported("zh-Hans-CN"), Some("zh-Hans"));
        assert_eq!(supported("zh-TW"), Some("zh-Hant"));
        assert_eq!(supported("zh-HK"), Some("zh-Hant"));
        assert_eq!(supported("zh-hant"), Some("zh-Hant"));
        assert_eq!(supported("ja-JP"), Some("ja"));
        assert_eq!(supported("ko_KR"), Some("ko"));
        assert_eq!(supported("en-GB"), Some("en"));
        assert_eq!(supported("fr"), None);
        assert_eq!(supported(""), None);
    }

    #[test]
    fn explicit_choice_then_browser_order_then_english() {
        assert_eq!(negotiate(["ko"], ["ja", "en"]), "ko");
        assert_eq!(negotiate(["xx"], ["fr", "ja", "en"]), "ja");
        assert_eq!(negotiate([], ["fr", "de"]), "en");
        assert_eq!(negotiate([], ["zh-TW", "en"]), "zh-Hant");
    }

    #[test]
    fn every_supported_language_has_a_name() {
        for language in SUPPORTED_LANGUAGES {
            assert_eq!(supported(language), Some(language));
            assert!(language == "en" || native_name(language) != "English");
        }
    }
}
