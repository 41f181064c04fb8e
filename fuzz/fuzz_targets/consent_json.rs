//! The JSON body of `POST /api/v1/consent` (`AppJson<ConsentRequest>`), then the decision it
//! asks for, checked against the default policy as the service records it.

#![no_main]

use app::domain::ConsentRequest;
use axum::Json;
use libfuzzer_sys::fuzz_target;
use server::error::ApiError;

fuzz_target!(|body: &[u8]| {
    match Json::<ConsentRequest>::from_bytes(body) {
        Ok(Json(request)) => server_fuzz::record(request),
        // The rejection as the API answers it: a code and a status, never a panic.
        Err(rejection) => {
            let _ = ApiError::from(rejection).status();
        }
    }
});
