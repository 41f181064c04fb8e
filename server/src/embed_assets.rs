//! The embed's static assets, built once and cached: the loader (`/embed.js`: the hand-written
//! `embed/loader.js` with this deployment's config, minified and precompressed, with an ETag)
//! and the shadow-root stylesheet (the site's CSS behind a reset, named by its content hash).

use axum::body::Bytes;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

const LOADER_SOURCE: &str = include_str!("../embed/loader.js");
/// Cuts the host page's inherited styles off at the shadow root and sets ours. Important
/// declarations inside a shadow tree beat the host page's important ones, so even
/// `* { font-family: … !important }` on the host page stops at the shadow host.
const SHADOW_RESET: &str = ":host{all:initial!important;font-family:var(--zc-font)!important;line-height:1.55!important;color:var(--zc-fg)!important}";

/// Whitespace and comments out of the hand-written loader, so it stays within 2 KB brotli.
/// Only whole-line comments and spacing around operators outside the config go; string
/// literals in the loader contain none of the replaced sequences (the unit test runs it).
pub fn minify_loader(source: &str) -> String {
    let body = source
        .strip_prefix("/*")
        .and_then(|rest| rest.split_once("*/"))
        .map_or(source, |(_, rest)| rest);
    let mut out = body
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for (from, to) in [
        (" => ", "=>"),
        (" = ", "="),
        (" == ", "=="),
        (" != ", "!="),
        (" || ", "||"),
        (" && ", "&&"),
        (" ? ", "?"),
        (" : ", ":"),
        (", ", ","),
        (" + ", "+"),
        ("{ ", "{"),
        (" }", "}"),
        (") {", "){"),
        (" * ", "*"),
        (" < ", "<"),
    ] {
        out = out.replace(from, to);
    }
    out
}

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
        let js = minify_loader(LOADER_SOURCE).replace("__CONFIG__", &config);
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
    fn minified_loader_is_the_same_program_in_fewer_bytes() {
        let minified = minify_loader(LOADER_SOURCE);
        assert!(minified.len() < LOADER_SOURCE.len() * 3 / 4);
        assert!(minified.contains("__CONFIG__"));
        // The one regex with "; " in it survives.
        assert!(minified.contains("(?:^|; )zc_consent="));
    }
}
