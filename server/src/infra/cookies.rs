//! Our cookies and their attributes, in one place.

use app::domain::CookieExpiry;
use cookie::{Cookie, SameSite};
use http::HeaderValue;
use std::time::Duration;

pub const SSAID_COOKIE: &str = "zc_ssaid";
/// The SSAID's name when cookies are `Secure`: browsers accept a `__Host-` cookie only from
/// the host itself (Secure, `Path=/`, no Domain), so a sibling subdomain cannot plant one.
pub const SSAID_HOST_COOKIE: &str = "__Host-zc_ssaid";
pub const CONSENT_COOKIE: &str = "zc_consent";
/// The operator console's session.
pub const ADMIN_SESSION_COOKIE: &str = "zc_admin";

#[derive(Debug, Clone)]
pub struct CookiePolicy {
    pub secure: bool,
    /// Domain for the consent cookie so sibling subdomains can read the choice.
    pub consent_domain: Option<String>,
    pub ssaid_lifetime: Duration,
}

impl CookiePolicy {
    /// The SSAID cookie's name: `__Host-zc_ssaid` when cookies are `Secure` (plain-http
    /// development cannot use the prefix).
    pub fn ssaid_name(&self) -> &'static str {
        if self.secure {
            SSAID_HOST_COOKIE
        } else {
            SSAID_COOKIE
        }
    }

    /// The SSAID: never readable by scripts, never sent cross-site except top-level navigation.
    /// The SSAID cookie, living as long as its token: `ssaid_lifetime` for a new one.
    pub fn ssaid(&self, token: String, lifetime: Duration) -> HeaderValue {
        let cookie = Cookie::build((self.ssaid_name(), token))
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .path("/")
            .max_age(max_age(lifetime))
            .build();
        header_value(&cookie)
    }

    /// The consent record: readable by pages (no HttpOnly) so they can apply the choice. It
    /// lives as long as the choice holds.
    pub fn consent(&self, token: String, lifetime: Duration) -> HeaderValue {
        self.shared_readable(CONSENT_COOKIE, token, lifetime)
    }

    /// The visitor's explicit language choice (a `preferences` identifier in the registry):
    /// 12 months, readable by every ZecCloud site's pages.
    pub fn language(&self, language: &str) -> HeaderValue {
        self.shared_readable(
            app::domain::language::LANGUAGE_COOKIE,
            language.to_owned(),
            Duration::from_secs(365 * 24 * 60 * 60),
        )
    }

    /// The console's session: never readable by scripts, never sent with any cross-site
    /// request, and only to the console's own paths.
    pub fn admin_session(&self, token: String, lifetime: Duration) -> HeaderValue {
        let cookie = Cookie::build((ADMIN_SESSION_COOKIE, token))
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .path(app::console::CONSOLE_PATH)
            .max_age(max_age(lifetime))
            .build();
        header_value(&cookie)
    }

    /// Ends the console's session in the browser.
    pub fn admin_session_ended(&self) -> HeaderValue {
        expire(&CookieExpiry {
            name: ADMIN_SESSION_COOKIE.to_owned(),
            domain: None,
            path: app::console::CONSOLE_PATH.to_owned(),
        })
    }

    /// A cookie pages may read, on the shared parent domain when one is configured.
    fn shared_readable(
        &self,
        name: &'static str,
        value: String,
        lifetime: Duration,
    ) -> HeaderValue {
        let mut cookie = Cookie::build((name, value))
            .http_only(false)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .path("/")
            .max_age(max_age(lifetime))
            .build();
        if let Some(domain) = &self.consent_domain {
            cookie.set_domain(domain.clone());
        }
        header_value(&cookie)
    }
}

/// Expires a cookie now, on the domain and path it was set for.
pub fn expire(expiry: &CookieExpiry) -> HeaderValue {
    let mut cookie = Cookie::build((expiry.name.clone(), ""))
        .path(expiry.path.clone())
        .max_age(cookie::time::Duration::ZERO)
        .expires(cookie::time::OffsetDateTime::UNIX_EPOCH)
        .build();
    if let Some(domain) = &expiry.domain {
        cookie.set_domain(domain.clone());
    }
    header_value(&cookie)
}

/// The cookies of a request's `Cookie` headers as sent (still percent-encoded).
fn sent(headers: &http::HeaderMap) -> impl Iterator<Item = Cookie<'_>> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
}

/// Percent-decodes a cookie's name or value; `None` when that is not UTF-8 (not well-formed).
/// Only text with a `%` is decoded: the long token values a request carries are searched once
/// (`str::contains` is vectorised) instead of decoded byte by byte for every lookup.
fn decoded(raw: &str) -> Option<String> {
    if raw.contains('%') {
        percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .ok()
            .map(|text| text.into_owned())
    } else {
        Some(raw.to_owned())
    }
}

/// The names of the cookies a request carries.
pub fn names(headers: &http::HeaderMap) -> Vec<String> {
    sent(headers)
        .filter_map(|cookie| decoded(cookie.name()))
        .collect()
}

fn max_age(lifetime: Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX))
}

fn header_value(cookie: &Cookie<'_>) -> HeaderValue {
    HeaderValue::from_str(&cookie.encoded().to_string())
        .expect("cookie names and JWT values are valid header characters")
}

/// The value of one cookie from a request's `Cookie` headers.
pub fn read(headers: &http::HeaderMap, name: &str) -> Option<String> {
    sent(headers)
        .filter_map(|cookie| Some((decoded(cookie.name())?, cookie)))
        .find(|(sent_name, _)| sent_name == name)
        .and_then(|(_, cookie)| decoded(cookie.value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(secure: bool, domain: Option<&str>) -> CookiePolicy {
        CookiePolicy {
            secure,
            consent_domain: domain.map(str::to_owned),
            ssaid_lifetime: Duration::from_secs(3600),
        }
    }

    #[test]
    fn request_cookies_are_read_percent_decoded() {
        let mut headers = http::HeaderMap::new();
        headers.append(
            http::header::COOKIE,
            HeaderValue::from_static("zc_ssaid=a.b.c; zc_lang=zh%2DHans; bad=%FF; _pk_id%2E1=x"),
        );
        headers.append(
            http::header::COOKIE,
            HeaderValue::from_static("zc_consent=t"),
        );
        assert_eq!(read(&headers, "zc_ssaid").as_deref(), Some("a.b.c"));
        assert_eq!(read(&headers, "zc_lang").as_deref(), Some("zh-Hans"));
        assert_eq!(read(&headers, "zc_consent").as_deref(), Some("t"));
        assert_eq!(read(&headers, "bad"), None, "not UTF-8 once decoded");
        assert_eq!(read(&headers, "missing"), None);
        assert_eq!(
            names(&headers),
            ["zc_ssaid", "zc_lang", "bad", "_pk_id.1", "zc_consent"]
        );
    }

    #[test]
    fn ssaid_cookie_attributes() {
        let value =
            policy(true, Some("zeccloud.com")).ssaid("tok".into(), Duration::from_secs(3600));
        let text = value.to_str().unwrap();
        for part in [
            "__Host-zc_ssaid=tok",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=3600",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        assert!(
            !text.contains("Domain"),
            "the SSAID stays host-only: {text}"
        );
        let plain =
            policy(false, Some("zeccloud.com")).ssaid("tok".into(), Duration::from_secs(3600));
        assert!(plain.to_str().unwrap().starts_with("zc_ssaid=tok;"));
    }

    #[test]
    fn consent_cookie_attributes() {
        let text = policy(false, Some("zeccloud.com"))
            .consent("tok".into(), Duration::from_secs(7200))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            text.contains("zc_consent=tok")
                && text.contains("Max-Age=7200")
                && text.contains("Domain=zeccloud.com")
        );
        assert!(
            !text.contains("HttpOnly") && !text.contains("Secure"),
            "{text}"
        );
    }

    #[test]
    fn expiry_names_domain_and_path() {
        let expiry = |name: &str, domain: Option<&str>| CookieExpiry {
            name: name.to_owned(),
            domain: domain.map(str::to_owned),
            path: "/".to_owned(),
        };
        let parent = expire(&expiry("_pk_id.1.ab12", Some("zeccloud.com")));
        let text = parent.to_str().unwrap();
        for part in [
            "_pk_id.1.ab12=",
            "Max-Age=0",
            "Domain=zeccloud.com",
            "Path=/",
            "1970",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        let host = expire(&expiry("zc_lang", None));
        assert!(!host.to_str().unwrap().contains("Domain"));
    }

    #[test]
    fn reads_one_cookie_among_many() {
        let mut headers = http::HeaderMap::new();
        headers.append(
            http::header::COOKIE,
            HeaderValue::from_static("a=1; zc_ssaid=abc.def"),
        );
        headers.append(http::header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(read(&headers, "zc_ssaid").as_deref(), Some("abc.def"));
        assert_eq!(read(&headers, "b").as_deref(), Some("2"));
        assert_eq!(read(&headers, "zc_consent"), None);
        assert_eq!(names(&headers), ["a", "zc_ssaid", "b"]);
    }
}
