//! The embed's static assets, built once and cached: the loader (`/embed.js`: the hand-written
//! `embed/loader.js` with this deployment's config, minified and precompressed, with an ETag)
//! and the shadow-root stylesheet (the site's CSS behind a reset, named by its content hash).

use axum::body::Bytes;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// `embed/loader.js`, minified at build time (`build.rs`).
const LOADER: &str = include_str!(concat!(env!("OUT_DIR"), "/loader.min.js"));
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
}

#[derive(Default)]
pub struct EmbedAssets {
    loader: Mutex<Option<Arc<Loader>>>,
    css: Mutex<Option<Arc<Stylesheet>>>,
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
            css: Bytes::from(css),
        });
        *cached = Some(Arc::clone(&css));
        Ok(css)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_is_minified_and_keeps_its_placeholder() {
        let source = include_str!("../embed/loader.js");
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
}
