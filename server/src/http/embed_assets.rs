//! The embed's assets, built once and cached: the loader (`/embed.js`: the hand-written
//! `embed/loader.js` with this deployment's config, minified and precompressed, with an ETag),
//! the shadow-root stylesheet (the site's CSS behind a reset, named by its content hash), and
//! the first layer's markup per policy version, language and service base ([`BannerKey`]).

use axum::body::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// `embed/loader.js`, minified at build time (`build.rs`).
const LOADER: &str = include_str!(concat!(env!("OUT_DIR"), "/loader.min.js"));
/// `embed/observe.js`, the report of undeclared identifiers, minified likewise.
const OBSERVER: &str = include_str!(concat!(env!("OUT_DIR"), "/observe.min.js"));
/// Cuts the host page's inherited styles off at the shadow root and sets ours. Important
/// declarations inside a shadow tree beat the host page's important ones, so even
/// `* { font-family: … !important }` on the host page stops at the shadow host.
const SHADOW_RESET: &str = ":host{all:initial!important;font-family:var(--zc-font)!important;line-height:1.55!important;color:var(--zc-fg)!important}";

/// A rendered loader and its compressed forms, rebuilt when its config changes.
pub struct Loader {
    config: String,
    pub etag: String,
    pub plain: Bytes,
    pub brotli: Bytes,
    pub gzip: Bytes,
}

/// The shadow-root stylesheet and the content hash in its name.
pub struct Stylesheet {
    pub hash: String,
    pub css: Bytes,
    /// The same as a JSON string, for a fragment that brings its stylesheet along.
    pub json: Arc<str>,
}

/// Everything the first layer's markup depends on (`app::embed::banner_html` reads no more of
/// the status than this): the policy version (a published version's texts never change, so a
/// new version is a new key), the language it is shown in, the service's base URL (its links
/// are absolute), whether the notice changed since the visitor's choice, whether GPC
/// decides, and the regime's first layer (with or without collection details). Two statuses
/// with the same key render the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BannerKey {
    pub version: String,
    pub language: String,
    pub base: String,
    pub notice_changed: bool,
    pub gpc_applied: bool,
    pub regime: app::domain::Regime,
    pub show_collection_details: bool,
}

/// At most this many banners are kept. Without a configured `public_url` the base comes from
/// the request's `Host`, which anyone can vary: past this the cache starts again, so it never
/// grows without bound (a real deployment needs a handful: languages × live versions).
const MAX_BANNERS: usize = 64;

#[derive(Default)]
pub struct EmbedAssets {
    loader: Mutex<Option<Arc<Loader>>>,
    css: Mutex<Option<Arc<Stylesheet>>>,
    /// The first layer's markup, already as a JSON string (quoted and escaped), by what it
    /// depends on: rendering the component was most of a fragment request's CPU time.
    banners: Mutex<HashMap<BannerKey, Arc<str>>>,
}

fn compress(plain: &[u8]) -> (Bytes, Bytes) {
    let mut brotli = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
        writer
            .write_all(plain)
            .expect("writing to memory cannot fail");
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(plain)
        .expect("writing to memory cannot fail");
    let gzip = gzip.finish().expect("writing to memory cannot fail");
    (Bytes::from(brotli), Bytes::from(gzip))
}

/// The first 8 bytes of the SHA-256, in hex.
fn short_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl EmbedAssets {
    /// The report of undeclared identifiers with `config` (JSON) in place of its `__CONFIG__`.
    /// Made for each request: only sampled page views ask for it, and the compression layer
    /// compresses it as it goes.
    pub fn observer(config: &str) -> String {
        OBSERVER.replacen("__CONFIG__", config, 1)
    }

    /// The loader with `config` (JSON) in place of its `__CONFIG__` placeholder.
    pub fn loader(&self, config: String) -> Arc<Loader> {
        let mut cached = self.loader.lock().expect("loader cache lock");
        if let Some(loader) = cached.as_ref().filter(|l| l.config == config) {
            return Arc::clone(loader);
        }
        let js = LOADER.replace("__CONFIG__", &config);
        let (brotli, gzip) = compress(js.as_bytes());
        let loader = Arc::new(Loader {
            etag: format!("\"{}\"", short_hash(js.as_bytes())),
            config,
            plain: Bytes::from(js),
            brotli,
            gzip,
        });
        *cached = Some(Arc::clone(&loader));
        loader
    }

    /// The site stylesheet (under `site_root`) with the shadow-root reset in front.
    pub fn css(&self, site_root: &Path) -> std::io::Result<Arc<Stylesheet>> {
        let mut cached = self.css.lock().expect("css cache lock");
        if let Some(css) = cached.as_ref() {
            return Ok(Arc::clone(css));
        }
        let path = site_root
            .join("pkg")
            .join(format!("{}.css", app::SITE_NAME));
        let site_css = std::fs::read_to_string(&path)
            .map_err(|err| std::io::Error::new(err.kind(), format!("{}: {err}", path.display())))?;
        let css = format!("{SHADOW_RESET}{site_css}");
        let css = Arc::new(Stylesheet {
            hash: short_hash(css.as_bytes()),
            json: serde_json::to_string(&css)
                .expect("a string serialises")
                .into(),
            css: Bytes::from(css),
        });
        *cached = Some(Arc::clone(&css));
        Ok(css)
    }

    /// The banner for `key` as a JSON string, rendered by `render` the first time. Rendering
    /// happens outside the lock: two requests may render the same banner once each, and
    /// neither waits for the other.
    pub fn banner_json(&self, key: BannerKey, render: impl FnOnce() -> String) -> Arc<str> {
        if let Some(json) = self.banners.lock().expect("banner cache lock").get(&key) {
            return Arc::clone(json);
        }
        let json: Arc<str> = serde_json::to_string(&render())
            .expect("a string serialises")
            .into();
        let mut banners = self.banners.lock().expect("banner cache lock");
        if banners.len() >= MAX_BANNERS {
            banners.clear();
        }
        banners.insert(key, Arc::clone(&json));
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_is_minified_and_keeps_its_placeholder() {
        let source = include_str!("../../embed/loader.js");
        assert!(
            LOADER.len() < source.len() * 2 / 3,
            "{} bytes",
            LOADER.len()
        );
        assert_eq!(LOADER.matches("__CONFIG__").count(), 1);
        assert!(!LOADER.contains("/*"), "comments are gone");
        // The regular expression that reads the consent cookie survives as written.
        assert!(LOADER.contains("/(?:^|; )zc_consent=([^;]*)/"));
    }

    #[test]
    fn a_loader_is_built_once_per_config() {
        let assets = EmbedAssets::default();
        let first = assets.loader(r#"{"base":"https://a"}"#.to_owned());
        let again = assets.loader(r#"{"base":"https://a"}"#.to_owned());
        assert!(Arc::ptr_eq(&first, &again));
        assert!(
            std::str::from_utf8(&first.plain)
                .unwrap()
                .contains(r#"{"base":"https://a"}"#)
        );
        let other = assets.loader(r#"{"base":"https://b"}"#.to_owned());
        assert_ne!(first.etag, other.etag);
    }

    fn key(version: &str, language: &str, base: &str) -> BannerKey {
        BannerKey {
            version: version.to_owned(),
            language: language.to_owned(),
            base: base.to_owned(),
            notice_changed: false,
            gpc_applied: false,
            regime: app::domain::Regime::OptIn,
            show_collection_details: false,
        }
    }

    #[test]
    fn a_banner_is_rendered_once_per_key_and_kept_as_json() {
        let assets = EmbedAssets::default();
        let renders = std::cell::Cell::new(0);
        let render = |html: &str| {
            renders.set(renders.get() + 1);
            html.to_owned()
        };
        let first = assets.banner_json(key("v1", "en", "https://a"), || render("<p>\"hi\"</p>"));
        assert_eq!(&*first, r#""<p>\"hi\"</p>""#);
        let again = assets.banner_json(key("v1", "en", "https://a"), || render("other"));
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(renders.get(), 1);
        for other in [
            key("v2", "en", "https://a"),
            key("v1", "ja", "https://a"),
            key("v1", "en", "https://b"),
            BannerKey {
                notice_changed: true,
                ..key("v1", "en", "https://a")
            },
            BannerKey {
                gpc_applied: true,
                ..key("v1", "en", "https://a")
            },
            BannerKey {
                regime: app::domain::Regime::OptOut,
                ..key("v1", "en", "https://a")
            },
            BannerKey {
                show_collection_details: true,
                ..key("v1", "en", "https://a")
            },
        ] {
            assets.banner_json(other, || render("x"));
        }
        assert_eq!(
            renders.get(),
            8,
            "every part of the key tells banners apart"
        );
    }

    #[test]
    fn the_banner_cache_stays_bounded() {
        let assets = EmbedAssets::default();
        for n in 0..MAX_BANNERS * 3 {
            let host = format!("http://host-{n}.example");
            assets.banner_json(key("v1", "en", &host), || host.clone());
        }
        assert!(assets.banners.lock().unwrap().len() <= MAX_BANNERS);
    }
}
