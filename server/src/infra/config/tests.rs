use super::*;
use crate::domain::tracking::WithoutConsent;
use std::fs;
use std::os::unix::fs::PermissionsExt;

/// The defaults, completed as production needs: with its public URL.
fn production() -> Settings {
    Settings {
        public_url: Some("https://consent.zeccloud.com".to_owned()),
        ..Settings::default()
    }
}

#[test]
fn production_needs_a_public_url_that_is_an_origin() {
    let err = Settings::default().check().unwrap_err().to_string();
    assert!(err.contains("public_url is required"), "{err}");
    let development = Settings {
        cookie_secure: false,
        ..Settings::default()
    };
    assert!(
        development.check().is_ok(),
        "plain-http development takes the Host"
    );
    for bad in [
        "consent.zeccloud.com",
        "ftp://consent.zeccloud.com",
        "https://consent.zeccloud.com/consent",
        "https://consent.zeccloud.com/?x=1",
        "https://user@consent.zeccloud.com",
    ] {
        let settings = Settings {
            public_url: Some(bad.to_owned()),
            ..production()
        };
        assert!(settings.check().is_err(), "{bad}");
    }
    for good in ["https://consent.zeccloud.com", "http://127.0.0.1:3000/"] {
        let settings = Settings {
            public_url: Some(good.to_owned()),
            ..production()
        };
        assert!(settings.check().is_ok(), "{good}");
    }
}

#[test]
fn key_file_is_generated_once_with_0600() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        signing_key_file: dir.path().join("keys/signing.key"),
        ..Settings::default()
    };
    let first = settings.load_signing_key().unwrap();
    let mode = fs::metadata(&settings.signing_key_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let second = settings.load_signing_key().unwrap();
    assert_eq!(first.expose_secret(), second.expose_secret());
    assert_eq!(first.expose_secret().len(), 32);
}

#[test]
fn configured_key_must_be_long_base64() {
    let with = |key: &str| Settings {
        signing_key: Some(SecretString::from(key.to_owned())),
        ..Settings::default()
    };
    assert!(with("not base64!").load_signing_key().is_err());
    assert!(with("c2hvcnQ=").load_signing_key().is_err());
    assert!(with(&"QUFB".repeat(11)).load_signing_key().is_ok());
}

#[test]
fn debug_output_hides_the_key() {
    let settings = Settings {
        signing_key: Some(SecretString::from(
            "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==".to_owned(),
        )),
        admin_token: Some(SecretString::from("admin-token-do-not-log".to_owned())),
        ops_token: Some(SecretString::from("ops-token-do-not-log".to_owned())),
        matomo: MatomoSettings {
            token_auth: Some(SecretString::from("matomo-token-do-not-log".to_owned())),
            ..MatomoSettings::default()
        },
        ..Settings::default()
    };
    let shown = format!("{settings:?}");
    assert!(!shown.contains("c2VjcmV0"), "{shown}");
    assert!(!shown.contains("do-not-log"), "{shown}");
    let serialised = serde_json::to_string(&settings).unwrap();
    assert!(!serialised.contains("do-not-log"), "{serialised}");
}

#[test]
fn matomo_settings_nest_in_file_and_environment() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "consent.toml",
            "[matomo]\nupstream_url = \"https://matomo.internal/matomo.php\"\nwithout_consent = \"anonymous\"\n",
        )?;
        jail.set_env("ZC_MATOMO__TIMEOUT_MS", "500");
        jail.set_env("ZC_PUBLIC_URL", "https://consent.zeccloud.com");
        let settings = Settings::load().map_err(|e| e.to_string())?;
        assert_eq!(settings.matomo.without_consent, WithoutConsent::Anonymous);
        assert_eq!(settings.matomo.timeout_ms, 500);
        assert_eq!(settings.matomo.category, "analytics");
        Ok(())
    });
    for bad in [
        "[matomo]\nupstream_url = \"ftp://matomo/\"\n",
        "[matomo]\nupstream_url = \"https://m/matomo.php?idsite=1\"\n",
        "[matomo]\ncip_mask_bytes = 5\n",
        "[matomo]\nwithout_consent = \"keep\"\n",
        "[matomo]\nmax_in_flight = 0\n",
        "[matomo]\nno_such = 1\n",
    ] {
        figment::Jail::expect_with(|jail| {
            jail.create_file("consent.toml", bad)?;
            jail.set_env("ZC_PUBLIC_URL", "https://consent.zeccloud.com");
            let err = Settings::load().unwrap_err().to_string();
            assert!(
                err.contains("matomo") || err.contains("no_such") || err.contains("keep"),
                "{bad}: {err}"
            );
            Ok(())
        });
    }
}

#[test]
fn expiry_periods_are_checked() {
    let refusal_longer = Settings {
        refusal_expiry_days: 400,
        ..production()
    };
    assert!(refusal_longer.check().is_err());
    let short_token = Settings {
        admin_token: Some(SecretString::from("short".to_owned())),
        ..production()
    };
    assert!(short_token.check().is_err());
    let short_ops_token = Settings {
        ops_token: Some(SecretString::from("short".to_owned())),
        ..production()
    };
    assert!(short_ops_token.check().is_err());
    for minutes in [0, 24 * 60 + 1] {
        let session = Settings {
            admin_session_minutes: minutes,
            ..production()
        };
        assert!(session.check().is_err(), "{minutes} minutes");
    }
    let sign_in_never = Settings {
        rate_limits: RateLimitSettings {
            sign_in_per_minute: 0,
            ..RateLimitSettings::default()
        },
        ..production()
    };
    assert!(sign_in_never.check().is_err());
    assert!(production().check().is_ok());
}

#[test]
fn file_then_environment_override_defaults() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "consent.toml",
            "listen = \"0.0.0.0:8080\"\ncookie_secure = false\nconsent_expiry_days = 180\n",
        )?;
        jail.set_env("ZC_CONSENT_EXPIRY_DAYS", "190");
        jail.set_env("DATABASE_URL", "postgres://consent@db/consent");
        let settings = Settings::load().map_err(|e| e.to_string())?;
        assert_eq!(settings.listen, "0.0.0.0:8080".parse().unwrap());
        assert!(!settings.cookie_secure);
        assert_eq!(settings.consent_expiry_days, 190);
        assert_eq!(settings.database_url, "postgres://consent@db/consent");
        assert_eq!(
            settings.ssaid_lifetime_days, 365,
            "untouched settings keep their default"
        );
        Ok(())
    });
}

#[test]
fn bad_settings_are_refused_with_a_reason() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("DATABASE_URL", "mysql://nope");
        let err = Settings::load().unwrap_err().to_string();
        assert!(err.contains("database_url"), "{err}");
        Ok(())
    });
    figment::Jail::expect_with(|jail| {
        jail.set_env("ZC_COOKIE_SECUR", "false");
        let err = Settings::load().unwrap_err().to_string();
        assert!(
            err.contains("cookie_secur"),
            "a misspelt variable is named: {err}"
        );
        Ok(())
    });
    figment::Jail::expect_with(|jail| {
        jail.create_file("consent.toml", "no_such_setting = 1\n")?;
        assert!(Settings::load().is_err());
        jail.set_env("ZC_CONFIG", "missing.toml");
        let err = Settings::load().unwrap_err().to_string();
        assert!(err.contains("missing.toml"), "{err}");
        Ok(())
    });
}

#[test]
fn sample_config_file_matches_the_settings() {
    let sample = include_str!("../../../../consent.sample.toml");
    let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
        .merge(Toml::string(sample))
        .extract()
        .expect("consent.sample.toml must parse into Settings");
    settings.check().unwrap();
}

#[test]
fn a_key_ring_loads_from_the_file_or_the_environment() {
    let key = |byte: u8| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode([byte; 32])
    };
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "consent.toml",
            &format!(
                "cookie_secure = false\nsigning_keys = [{{ id = \"2026-11\", key = \"{}\" }}, {{ id = \"2026-05\", key = \"{}\" }}]\n",
                key(1),
                key(2)
            ),
        )?;
        let settings = Settings::load().map_err(|e| e.to_string())?;
        let ring = settings.load_key_ring().map_err(|e| e.to_string())?;
        assert_eq!(ring.ids().collect::<Vec<_>>(), ["2026-11", "2026-05"]);
        assert!(
            !format!("{settings:?}").contains(&key(1)),
            "keys stay out of Debug"
        );
        jail.set_env(
            "ZC_SIGNING_KEYS",
            format!("[{{id=\"2026-12\",key=\"{}\"}}]", key(3)),
        );
        let settings = Settings::load().map_err(|e| e.to_string())?;
        let ring = settings.load_key_ring().map_err(|e| e.to_string())?;
        assert_eq!(ring.ids().collect::<Vec<_>>(), ["2026-12"]);
        Ok(())
    });
    let with = |keys: Vec<(&str, String)>, single: Option<String>| Settings {
        signing_keys: keys
            .into_iter()
            .map(|(id, key)| KeyEntry {
                id: id.to_owned(),
                key: SecretString::from(key),
            })
            .collect(),
        signing_key: single.map(SecretString::from),
        ..Settings::default()
    };
    assert!(
        with(vec![("a", key(1))], Some(key(2)))
            .load_key_ring()
            .is_err()
    );
    assert!(
        with(vec![("a", key(1)), ("a", key(2))], None)
            .load_key_ring()
            .is_err()
    );
    assert!(
        with(vec![("a", "c2hvcnQ=".to_owned())], None)
            .load_key_ring()
            .is_err()
    );
    assert!(
        KeyEntry::generate("2026-11")
            .unwrap()
            .starts_with("{ id = \"2026-11\", key = \"")
    );
}

#[test]
fn country_header_is_a_header_name_read_only_from_trusted_proxies() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "consent.toml",
            "country_header = \"CF-IPCountry\"\ntrusted_proxies = [\"10.0.0.0/8\"]\ngeoip_database = \"geo/GeoLite2-Country.mmdb\"\n",
        )?;
        jail.set_env("ZC_PUBLIC_URL", "https://consent.zeccloud.com");
        let settings = Settings::load().map_err(|e| e.to_string())?;
        assert_eq!(settings.country_header.as_deref(), Some("cf-ipcountry"));
        assert_eq!(
            settings.geoip_database,
            Some(PathBuf::from("geo/GeoLite2-Country.mmdb"))
        );
        jail.set_env("ZC_COUNTRY_HEADER", "X-Vercel-IP-Country");
        jail.set_env("ZC_GEOIP_DATABASE", "/var/lib/geoip/dbip-country-lite.mmdb");
        let settings = Settings::load().map_err(|e| e.to_string())?;
        assert_eq!(
            settings.country_header.as_deref(),
            Some("x-vercel-ip-country")
        );
        assert_eq!(
            settings.geoip_database,
            Some(PathBuf::from("/var/lib/geoip/dbip-country-lite.mmdb"))
        );
        Ok(())
    });
    figment::Jail::expect_with(|jail| {
        jail.set_env("ZC_PUBLIC_URL", "https://consent.zeccloud.com");
        jail.set_env("ZC_COUNTRY_HEADER", "cloudfront-viewer-country");
        let err = Settings::load().unwrap_err().to_string();
        assert!(
            err.contains("country_header") && err.contains("trusted_proxies"),
            "a header nobody may set is refused: {err}"
        );
        Ok(())
    });
    let behind_a_proxy = |name: &str| Settings {
        country_header: Some(name.to_owned()),
        trusted_proxies: vec!["10.0.0.0/8".to_owned()],
        ..production()
    };
    assert!(behind_a_proxy("cf-ipcountry").check().is_ok());
    for bad in ["", "cf ipcountry", "country:", "pays-é", "cf-ipcountry\n"] {
        let err = behind_a_proxy(bad).check().unwrap_err().to_string();
        assert!(err.contains("not an HTTP header name"), "{bad:?}: {err}");
    }
}
