//! The WASM entry: hydrates the server-rendered visitor pages. The console (`/admin`) is
//! server-rendered only and loads no WASM.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
