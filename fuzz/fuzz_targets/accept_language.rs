//! The language of a request: `Accept-Language` (first line of the input), the remembered
//! `zc_lang` cookie (`Cookie` header, second line) and `?lang=` (query, third line), as every
//! page and fragment negotiates it.

#![no_main]

use app::domain::language::supported;
use libfuzzer_sys::fuzz_target;
use server::http::language::{explicit_choice, of_request};

fuzz_target!(|data: &[u8]| {
    let mut lines = data.splitn(3, |&b| b == b'\n');
    let (accept, cookie, query) = (lines.next(), lines.next(), lines.next());
    let mut headers = http::HeaderMap::new();
    for (name, value) in [
        (http::header::ACCEPT_LANGUAGE, accept),
        (http::header::COOKIE, cookie),
    ] {
        if let Some(value) = value.and_then(|v| http::HeaderValue::from_bytes(v).ok()) {
            headers.insert(name, value);
        }
    }
    let uri = query
        .and_then(|q| std::str::from_utf8(q).ok())
        .and_then(|q| format!("/preferences?{q}").parse::<http::Uri>().ok())
        .unwrap_or_else(|| http::Uri::from_static("/"));
    if let Some(chosen) = explicit_choice(&uri) {
        assert_eq!(supported(chosen), Some(chosen));
    }
    let language = of_request(&uri, &headers);
    assert_eq!(
        supported(language),
        Some(language),
        "{language} is not supported"
    );
    if let Some(text) = accept.and_then(|a| std::str::from_utf8(a).ok()) {
        for tag in accept_language::parse(text) {
            let _ = supported(&tag);
        }
    }
});
