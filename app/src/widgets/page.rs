//! What a visitor page gives the widgets on it: the consent status it is rendered with, its
//! path, and the notice shown when the status could not be read.

use crate::consent_api::UiError;
use crate::domain::ConsentStatus;
use leptos::prelude::*;

/// The visitor's consent status as the server-rendered page sees it (outside the island).
#[derive(Clone, Copy)]
pub struct PageStatus(pub Resource<Result<ConsentStatus, UiError>>);

/// The path of the page being rendered, for forms that submit back to it (the language
/// switcher).
#[derive(Debug, Clone)]
pub struct PagePath(pub String);

/// Renders `children` with the visitor's consent status once it is known, or the error that
/// stopped it. Reads the status in a plain closure: the page has one `<Suspense>` (see `App`).
#[component]
pub fn WithStatus<F, V>(children: F) -> impl IntoView
where
    F: Fn(ConsentStatus) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let PageStatus(status) = expect_context();
    move || {
        // `try_get`: a page abandoned mid-render (the client went away) drops the resource
        // while this may still run; there is nothing left to render then.
        status.try_get().flatten().map(|result| match result {
            Ok(status) => children(status).into_any(),
            Err(error) => view! { <ErrorNotice error/> }.into_any(),
        })
    }
}

#[component]
pub fn ErrorNotice(error: UiError) -> impl IntoView {
    view! {
        <p class="zc-error" role="alert" data-error-code=error.code>
            {error.message}
        </p>
    }
}
