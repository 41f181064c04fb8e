//! The WASM entry: hydrates the islands of the server-rendered visitor pages (the banner, the
//! preference center, the footer's settings link); the rest of a page ships no component code.
//! The console (`/admin`) is server-rendered only and loads no WASM.

// The islands' hydration functions live in `app`: without a use of the crate it would not be
// linked, and the islands would silently never hydrate.
#[allow(unused_extern_crates)]
extern crate app;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
