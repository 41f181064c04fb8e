//! Minifies the embed loader (`embed/loader.js`) with oxc, a kept JavaScript minifier, into
//! `$OUT_DIR/loader.min.js`, which the server embeds and serves as `/embed.js`. Also rebuilds
//! the server when a migration is added: `sqlx::migrate!` embeds the folder at compile time.

use oxc_allocator::Allocator;
use oxc_codegen::{Codegen, CodegenOptions};
use oxc_minifier::{CompressOptions, MangleOptions, Minifier, MinifierOptions};
use oxc_parser::Parser;
use oxc_span::SourceType;
use std::path::PathBuf;

const LOADER: &str = "embed/loader.js";
/// Replaced by the deployment's config when served; it must survive minification untouched.
const PLACEHOLDER: &str = "__CONFIG__";

fn main() {
    println!("cargo::rerun-if-changed={LOADER}");
    println!("cargo::rerun-if-changed=migrations");
    let source = std::fs::read_to_string(LOADER).expect("the embed loader is readable");
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, &source, SourceType::script()).parse();
    assert!(
        parsed.diagnostics.is_empty() && !parsed.panicked,
        "{LOADER} does not parse: {:?}",
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
        "the minified loader must keep exactly one {PLACEHOLDER}"
    );
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("loader.min.js"), code).expect("OUT_DIR is writable");
}
