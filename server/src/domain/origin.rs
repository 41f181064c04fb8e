//! Which other sites may embed the banner and call the service with the visitor's cookies.

/// Exact origins (`https://www.zeccloud.com`) and subdomain patterns (`https://*.zeccloud.com`,
/// any depth, not the bare domain).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginAllowlist {
    exact: Vec<String>,
    /// (scheme, ".suffix", port part such as ":8443" or "").
    patterns: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid embed origin {0:?}: use scheme://host[:port] or scheme://*.domain[:port], without a path"
)]
pub struct InvalidOrigin(pub String);

impl OriginAllowlist {
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidOrigin> {
        let mut list = Self::default();
        for entry in entries {
            let invalid = || InvalidOrigin(entry.to_owned());
            let (scheme, rest) = entry.split_once("://").ok_or_else(invalid)?;
            if !matches!(scheme, "http" | "https")
                || rest.is_empty()
                || rest.contains(['/', '?', '#', '@', ' '])
            {
                return Err(invalid());
            }
            let (host, port) = match rest.rsplit_once(':') {
                Some((host, port))
                    if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) =>
                {
                    (host, format!(":{port}"))
                }
                Some(_) => return Err(invalid()),
                None => (rest, String::new()),
            };
            let host = host.to_ascii_lowercase();
            if let Some(domain) = host.strip_prefix("*.") {
                if domain.is_empty()
                    || domain.contains('*')
                    || !domain.contains('.') && domain != "localhost"
                {
                    return Err(invalid());
                }
                list.patterns
                    .push((scheme.to_owned(), format!(".{domain}"), port));
            } else if host.contains('*') || host.is_empty() {
                return Err(invalid());
            } else {
                list.exact.push(format!("{scheme}://{host}{port}"));
            }
        }
        Ok(list)
    }

    /// Whether an `Origin` header value is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        if self.exact.contains(&origin) {
            return true;
        }
        let Some((scheme, rest)) = origin.split_once("://") else {
            return false;
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, format!(":{port}")),
            None => (rest, String::new()),
        };
        self.patterns
            .iter()
            .any(|(want_scheme, suffix, want_port)| {
                scheme == want_scheme
                    && port == *want_port
                    && host.len() > suffix.len()
                    && host.ends_with(suffix.as_str())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> OriginAllowlist {
        OriginAllowlist::parse([
            "https://www.zeccloud.com",
            "https://*.zeccloud.com",
            "http://*.zeccloud.test:3101",
        ])
        .unwrap()
    }

    #[test]
    fn exact_origins_and_subdomain_patterns() {
        let list = list();
        assert!(list.allows("https://www.zeccloud.com"));
        assert!(list.allows("https://console.zeccloud.com"));
        assert!(list.allows("https://a.b.zeccloud.com"));
        assert!(list.allows("http://www.zeccloud.test:3101"));
        assert!(list.allows("HTTPS://Docs.ZecCloud.com"));
    }

    #[test]
    fn everything_else_is_refused() {
        let list = list();
        for origin in [
            "https://zeccloud.com",
            "http://console.zeccloud.com",
            "https://evil-zeccloud.com",
            "https://zeccloud.com.evil.net",
            "https://console.zeccloud.com:8443",
            "http://www.zeccloud.test:3102",
            "null",
            "",
        ] {
            assert!(!list.allows(origin), "{origin}");
        }
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in [
            "www.zeccloud.com",
            "ftp://x.com",
            "https://x.com/path",
            "https://*",
            "https://*.com",
            "https://a.*.com",
            "https://x.com:port",
        ] {
            assert!(OriginAllowlist::parse([bad]).is_err(), "{bad}");
        }
    }
}
