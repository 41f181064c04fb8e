//! Signing in with the admin token: the one page shown before a session exists.

use super::SIGN_IN_PATH;
use leptos::prelude::*;

#[component]
pub(super) fn SignIn(error: Option<String>) -> impl IntoView {
    view! {
        <form method="post" action=SIGN_IN_PATH class="zc-console__form">
            {error.map(|error| view! { <p class="zc-error" role="alert">{error}</p> })}
            <label for="zc-admin-token">"Admin token"</label>
            <input
                id="zc-admin-token"
                name="token"
                type="password"
                autocomplete="current-password"
                required
            />
            <button type="submit" class="zc-btn zc-btn--choice">"Sign in"</button>
        </form>
    }
}
