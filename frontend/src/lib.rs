//! The WASM entry: hydrates the server-rendered page, the visitor's app or the console.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let on_console = leptos::prelude::window()
        .location()
        .pathname()
        .is_ok_and(|path| path.starts_with(app::console::CONSOLE_PATH));
    if on_console {
        // A console page carries its data; without it (an error page) nothing is hydrated.
        if let Some(page) = app::console::page_from_document() {
            leptos::mount::hydrate_body(move || {
                leptos::prelude::view! { <app::console::ConsoleApp page/> }
            });
        }
    } else {
        leptos::mount::hydrate_body(app::App);
    }
}
