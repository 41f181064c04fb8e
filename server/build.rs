//! Minifies the embed loader (`embed/loader.js`) with oxc, a kept JavaScript minifier, into
//! `$OUT_DIR/loader.min.js`, which the server embeds and serves as `/embed.js`; and the report
//! of undeclared identifiers it adds to sampled page views (`embed/observe.js`, served as
//! `/embed/observe.js`) likewise. First it writes into them the island's retry schedule and
//! storage-clearing rule, so that all follow one (see `RULES`). Also rebuilds the server when a migration is added: `sqlx::migrate!`
//! embeds the folder at compile time.

use oxc_allocator::Allocator;
use oxc_codegen::{Codegen, CodegenOptions};
use oxc_minifier::{CompressOptions, MangleOptions, Minifier, MinifierOptions};
use oxc_parser::Parser;
use oxc_span::SourceType;
use std::path::PathBuf;

const LOADER: &str = "embed/loader.js";
const OBSERVER: &str = "embed/observe.js";
/// Replaced by the deployment's config when served; it must survive minification untouched.
const PLACEHOLDER: &str = "__CONFIG__";

/// The retry schedule and the storage-clearing rule for a choice, which the island (the WASM)
/// and the loader both follow: the island compiles this file, and the loader gets its values
/// here. Written once, they cannot drift apart, as two copies in two languages could.
const RULES: &str = "../app/src/delivery/rules.rs";
mod rules {
    // `RULES` (`include!` takes only a literal).
    include!("../app/src/delivery/rules.rs");
}

/// Each `__NAME__` in the loader's source that stands for the constant `NAME` of `RULES`, with
/// its value as JavaScript (an array of numbers, a string).
fn rule_values() -> [(&'static str, String); 4] {
    [
        (
            "__RETRY_DELAYS_MS__",
            format!("{:?}", rules::RETRY_DELAYS_MS),
        ),
        (
            "__STORAGE_WILDCARD__",
            js_string(&rules::STORAGE_WILDCARD.to_string()),
        ),
        ("__LOCAL_STORAGE__", js_string(rules::LOCAL_STORAGE)),
        ("__SESSION_STORAGE__", js_string(rules::SESSION_STORAGE)),
    ]
}

/// `text` as a JavaScript string literal; the rules' strings are plain words and signs.
fn js_string(text: &str) -> String {
    assert!(
        text.chars()
            .all(|c| c.is_ascii_graphic() && c != '\\' && c != '"'),
        "{text:?} needs escaping in JavaScript"
    );
    format!("\"{text}\"")
}

fn main() {
    println!("cargo::rerun-if-changed={LOADER}");
    println!("cargo::rerun-if-changed={OBSERVER}");
    println!("cargo::rerun-if-changed={RULES}");
    println!("cargo::rerun-if-changed=migrations");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // The loader uses every rule, the report only the storage ones; the report is a module
    // (the loader imports it, so that it comes without cookies).
    let loader = minify(LOADER, SourceType::script(), true);
    std::fs::write(out.join("loader.min.js"), loader).expect("OUT_DIR is writable");
    let observer = minify(OBSERVER, SourceType::mjs(), false);
    std::fs::write(out.join("observe.min.js"), observer).expect("OUT_DIR is writable");
}

/// The script (or module) at `path` with the rules' values written in, minified; `every_rule`:
/// it must use each of them.
fn minify(path: &str, kind: SourceType, every_rule: bool) -> String {
    let mut source = std::fs::read_to_string(path).expect("the embed scripts are readable");
    for (name, value) in rule_values() {
        assert!(
            !every_rule || source.contains(name),
            "{path} does not use {name}"
        );
        source = source.replace(name, &value);
    }
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, &source, kind).parse();
    assert!(
        parsed.diagnostics.is_empty() && !parsed.panicked,
        "{path} does not parse: {:?}",
        parsed.diagnostics
    );
    let mut program = parsed.program;
    let options = MinifierOptions {
        mangle: Some(MangleOptions::default()),
        compress: Some(CompressOptions::default()),
        ..MinifierOptions::default()
    };
    let minified = Minifier::new(options).minify(&allocator, &mut program);
    let code = Codegen::new()
        .with_options(CodegenOptions::minify())
        .with_scoping(minified.scoping)
        .build(&program)
        .code;
    assert_eq!(
        code.matches(PLACEHOLDER).count(),
        1,
        "the minified {path} must keep exactly one {PLACEHOLDER}"
    );
    // A misspelt name would be left as an undefined variable, failing only when it is used.
    let unknown: Vec<&str> = code
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.len() > 4 && word.starts_with("__") && word.ends_with("__"))
        .filter(|&word| word != PLACEHOLDER)
        .collect();
    assert!(unknown.is_empty(), "{path} uses unknown names {unknown:?}");
    code
}
