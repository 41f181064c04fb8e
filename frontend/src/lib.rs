//! The WASM entry: hydrates the one island of the server-rendered visitor pages, the prop-less
//! `ConsentIsland` beside the consent forms (`app/src/enhance.rs`), which posts them with
//! `fetch` and updates what a choice changes; the banner, the preference center and the rest
//! of a page are server HTML that ship no component code. The console (`/admin`) is
//! server-rendered only and loads no WASM.

// The island's hydration function lives in `app`: without a use of the crate it would not be
// linked, and the island would silently never hydrate.
#[allow(unused_extern_crates)]
extern crate app;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
