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

/// The cookie that remembers an explicit language choice; set only with `preferences` consent.
pub const LANGUAGE_COOKIE: &str = "zc_lang";

#[cfg(test)]
mod tests {
    use super::*;

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
