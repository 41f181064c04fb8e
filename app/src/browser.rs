//! What the hydrated page does in the browser itself. Without the `hydrate` feature
//! (on the server) they do nothing: the server has no browser storage.

use crate::domain::StorageKey;

/// Removes the localStorage / sessionStorage keys of refused categories; a key listed as
/// `prefix*` removes every key with that prefix.
pub fn clear_storage(keys: &[StorageKey]) {
    #[cfg(feature = "hydrate")]
    {
        use crate::domain::IdentifierKind;
        let Some(window) = web_sys::window() else {
            return;
        };
        for key in keys {
            let storage = match key.kind {
                IdentifierKind::LocalStorage => window.local_storage(),
                IdentifierKind::SessionStorage => window.session_storage(),
                IdentifierKind::Cookie => continue,
            };
            let Ok(Some(storage)) = storage else {
                continue;
            };
            match key.name.strip_suffix('*') {
                None => {
                    let _ = storage.remove_item(&key.name);
                }
                Some(prefix) => {
                    let count = storage.length().unwrap_or(0);
                    let matching: Vec<String> = (0..count)
                        .filter_map(|i| storage.key(i).ok().flatten())
                        .filter(|name| name.starts_with(prefix))
                        .collect();
                    for name in matching {
                        let _ = storage.remove_item(&name);
                    }
                }
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = keys;
}

/// Milliseconds on the page's monotonic clock (`performance.now()`): ages measured with it do
/// not jump when the visitor's wall clock is set. Zero on the server.
pub fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|window| window.performance())
            .map_or(0.0, |performance| performance.now())
    }
    #[cfg(not(feature = "hydrate"))]
    0.0
}
