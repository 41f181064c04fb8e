//! Form-encoded decisions (`application/x-www-form-urlencoded`): the embed's `POST
//! /embed/consent` and the banner's own forms, read by the server's form decoder, then turned
//! into a request against the default policy and recorded as the service records it.

#![no_main]

use app::domain::DecisionForm;
use libfuzzer_sys::fuzz_target;
use server::http::form::decode;
use server::routes::embed::decisions::EmbedDecision;

fuzz_target!(|body: &[u8]| {
    // The embed endpoint's stricter shape (unknown fields refused).
    if let Err(err) = decode::<EmbedDecision>(body) {
        let _ = err.status();
    }
    if let Ok(form) = decode::<DecisionForm>(body)
        && let Ok(request) = form.into_request(server_fuzz::policy())
    {
        server_fuzz::record(request);
    }
});
