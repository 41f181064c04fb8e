//! The one island of the visitor pages. The banner, the preference dialog and the preference
//! center are rendered on the server, as plain forms that work without JavaScript; this island
//! sits beside them and, once its WASM runs, records a choice without a reload. It never renders
//! them again: it listens for their submits and changes only what a choice changes (the banner
//! goes, the settings button shows, the current choice and the error notices update).
//!
//! So the WASM carries none of their views, no server-function client and no JSON codec: the
//! browser's own `fetch` and `JSON.parse` post the form's fields and read the answer. That is
//! what keeps the bundle small (issue 17); the server HTML is the one source of the markup.

use leptos::prelude::*;

/// The attributes by which the island finds, in the server HTML, what a choice changes. The
/// server components (`widgets`) write them and the browser code below reads them: one
/// list for both, checked against the server HTML by the widgets' tests.
pub mod marks {
    /// On a form whose submit records a choice (the island posts it itself).
    pub const RECORDS_CHOICE: &str = "data-records-choice";
    /// On every control that opens the preference dialog where the page has one.
    pub const OPENS_DIALOG: &str = "data-opens-dialog";
    /// An empty box that shows why a choice was not saved.
    pub const ERROR_SLOT: &str = "data-error-slot";
    /// The current-choice section; it carries the texts a new choice is shown with
    /// (`data-allowed`, `data-refused`, `data-undecided`, `data-saved`, `data-made-on`,
    /// `data-via-gpc`).
    pub const CURRENT_CHOICE: &str = "data-current-choice";
    /// Inside it: shown while no choice is known, and shown once one is.
    pub const NO_CHOICE: &str = "data-no-choice";
    pub const CHOICE: &str = "data-choice";
    /// The line saying when and under which version the choice was made.
    pub const MADE_ON: &str = "data-made-on-line";
    /// A category's state word, inside its `li[data-category][data-state]`.
    pub const STATE_LABEL: &str = "data-state-label";
    /// The receipt link; its `data-receipt` holds the address with `{id}` for the event id.
    pub const RECEIPT: &str = "data-receipt";
    /// Where "Saved." appears.
    pub const SAVED: &str = "data-saved-line";
}

/// The island itself: an empty, hidden element inside the forms' box
/// (`widgets::ConsentForms`), whose WASM enhances the box around it. It has neither
/// props nor children: props would bring a JSON decoder into the WASM, and children hydrate
/// with markers this markup does not need. It says `data-hydrated="true"` once its WASM has
/// run, which the browser tests wait for.
#[island]
pub(crate) fn ConsentIsland() -> impl IntoView {
    let marker = NodeRef::<leptos::html::Span>::new();
    Effect::new(move || {
        if let Some(marker) = marker.get() {
            browser::enhance(&marker);
        }
    });
    view! { <span hidden data-hydrated="false" node_ref=marker></span> }
}

/// `consent.categories` says `category` is granted, refused, or was never decided: the
/// `data-state` the current choice shows for it.
pub fn category_state(categories: &[(String, bool)], category: &str) -> &'static str {
    match categories.iter().find(|(id, _)| id == category) {
        Some((_, true)) => "allowed",
        Some((_, false)) => "refused",
        None => "undecided",
    }
}

/// "Made on {date} under version {version}", filled in: the same words on the server and in
/// the browser.
pub fn made_on_text(template: &str, decided_at: i64, version: &str) -> String {
    template
        .replace("{date}", &crate::domain::date::format_utc(decided_at))
        .replace("{version}", version)
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::marks;
    use crate::delivery::rules::{LOCAL_STORAGE, SESSION_STORAGE, STORAGE_WILDCARD};
    use crate::delivery::{is_retryable, retry_delay};
    use crate::error_code::client;
    use leptos::wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use leptos::web_sys::{
        Element, Event, FormData, HtmlDialogElement, HtmlElement, HtmlFormElement, RequestInit,
        Response, UrlSearchParams,
    };
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen_futures::JsFuture;

    /// What the island keeps between events: one per page.
    struct Page {
        root: HtmlElement,
        /// The banner, while it is out of the page (a choice is recorded or on its way).
        banner: RefCell<Option<Element>>,
        /// A choice was recorded on this page: a later failure does not bring the banner back.
        recorded: Cell<bool>,
        /// Which choice is the latest: retries of an earlier one stop when a newer is made.
        latest: Cell<u64>,
    }

    pub fn enhance(marker: &HtmlElement) {
        let Some(root) = marker
            .closest(".zc-consent-ui")
            .ok()
            .flatten()
            .and_then(|root| root.dyn_into::<HtmlElement>().ok())
        else {
            return;
        };
        let page = Rc::new(Page {
            root: root.clone(),
            banner: RefCell::new(None),
            recorded: Cell::new(false),
            latest: Cell::new(0),
        });
        let on_submit = {
            let page = page.clone();
            Closure::<dyn Fn(Event)>::new(move |event: Event| submitted(&page, &event))
        };
        let _ = root.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        on_submit.forget();
        // Document-wide: the footer's settings link is outside the island.
        let on_click = Closure::<dyn Fn(Event)>::new(clicked);
        let _ = leptos::prelude::document()
            .add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        on_click.forget();
        let _ = marker.set_attribute("data-hydrated", "true");
    }

    fn clicked(event: Event) {
        let Some(target) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let selector = format!("[{}]", marks::OPENS_DIALOG);
        if let Ok(Some(_)) = target.closest(&selector) {
            if let Some(dialog) = dialog() {
                event.prevent_default();
                if !dialog.open() {
                    let _ = dialog.show_modal();
                }
            }
        } else if let Ok(Some(close)) = target.closest("dialog [data-action=\"close\"]")
            && let Ok(Some(dialog)) = close.closest("dialog")
            && let Ok(dialog) = dialog.dyn_into::<HtmlDialogElement>()
        {
            dialog.close();
        }
    }

    /// The page's preference dialog, if it has one (`/preferences` has none).
    fn dialog() -> Option<HtmlDialogElement> {
        leptos::prelude::document()
            .query_selector("dialog.zc-dialog")
            .ok()
            .flatten()
            .and_then(|element| element.dyn_into().ok())
    }

    fn submitted(page: &Rc<Page>, event: &Event) {
        let Some(form) = event
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        // The language switcher and anything else keep their plain behaviour.
        if !form.has_attribute(marks::RECORDS_CHOICE) {
            return;
        }
        let Ok(fields) = FormData::new_with_form(&form)
            .and_then(|data| UrlSearchParams::new_with_str_sequence_sequence(&data))
        else {
            return;
        };
        // The attribute, not `form.action`: the form's field named "action" shadows that
        // property (it would be the <input>, not the address).
        let Some(url) = form.get_attribute("action") else {
            return;
        };
        event.prevent_default();
        let choice = page.latest.get() + 1;
        page.latest.set(choice);
        leptos::task::spawn_local(deliver(page.clone(), url, fields, choice));
    }

    /// Posts a choice; when the service cannot save it, keeps it and posts it again with
    /// back-off, saying how long ago it was made, with the banner closed meanwhile.
    async fn deliver(page: Rc<Page>, url: String, fields: UrlSearchParams, choice: u64) {
        let made_at = now_ms();
        let mut attempt = 0;
        loop {
            let answer = post(&url, &fields).await;
            if page.latest.get() != choice {
                return;
            }
            match answer {
                Ok(recorded) => return show_recorded(&page, &recorded),
                Err(error) if is_retryable(&error.code) => match retry_delay(attempt) {
                    Some(wait) => {
                        show_pending(&page);
                        sleep_ms(wait.as_millis() as i32).await;
                        if page.latest.get() != choice {
                            return;
                        }
                        attempt += 1;
                        let age = (now_ms() - made_at).max(1.0).round() as u64;
                        fields.set("decided_ms_ago", &age.to_string());
                    }
                    None => return show_failure(&page, &error),
                },
                Err(error) => return show_failure(&page, &error),
            }
        }
    }

    /// A failure as the visitor sees it.
    struct Failure {
        code: String,
        message: String,
    }

    impl Failure {
        fn new(code: &str) -> Self {
            Self {
                code: code.to_owned(),
                message: format!("Your choice could not be saved ({code}). Please try again."),
            }
        }
    }

    /// The recorded choice, as the server function answers it.
    struct Recorded {
        policy_version: String,
        categories: Vec<(String, bool)>,
        event_id: String,
        decided_at: i64,
        action: String,
        clear_storage: Vec<(String, String)>,
    }

    async fn post(url: &str, fields: &UrlSearchParams) -> Result<Recorded, Failure> {
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(fields);
        let headers = leptos::web_sys::Headers::new().map_err(|_| Failure::new(client::NETWORK))?;
        // JSON back, not the redirect a plain form gets.
        let _ = headers.set("Accept", "application/json");
        init.set_headers(&headers);
        let response: Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
            .await
            .and_then(|r| r.dyn_into())
            .map_err(|_| Failure::new(client::NETWORK))?;
        let body = match response.json() {
            Ok(promise) => JsFuture::from(promise).await.ok(),
            Err(_) => None,
        };
        let body = body.unwrap_or(JsValue::UNDEFINED);
        if response.ok() {
            recorded(&body).ok_or_else(|| Failure::new(client::REQUEST_FAILED))
        } else {
            Err(match (string(&body, "code"), string(&body, "message")) {
                (Some(code), Some(message)) => Failure { code, message },
                _ => Failure::new(client::REQUEST_FAILED),
            })
        }
    }

    fn get(value: &JsValue, key: &str) -> JsValue {
        js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    fn string(value: &JsValue, key: &str) -> Option<String> {
        get(value, key).as_string()
    }

    fn recorded(body: &JsValue) -> Option<Recorded> {
        let consent = get(body, "consent");
        let categories = js_sys::Object::entries(get(&consent, "categories").dyn_ref()?)
            .iter()
            .filter_map(|entry| {
                let entry: js_sys::Array = entry.dyn_into().ok()?;
                Some((entry.get(0).as_string()?, entry.get(1).as_bool()?))
            })
            .collect();
        let clear_storage = js_sys::Array::from(&get(body, "clear_storage"))
            .iter()
            .filter_map(|key| Some((string(&key, "kind")?, string(&key, "name")?)))
            .collect();
        Some(Recorded {
            policy_version: string(&consent, "policy_version")?,
            categories,
            event_id: string(&consent, "event_id")?,
            decided_at: get(&consent, "decided_at").as_f64()? as i64,
            action: string(&consent, "action")?,
            clear_storage,
        })
    }

    fn window() -> leptos::web_sys::Window {
        leptos::prelude::window()
    }

    /// Milliseconds on the page's monotonic clock: ages measured with it do not jump when the
    /// visitor's wall clock is set.
    fn now_ms() -> f64 {
        window().performance().map_or(0.0, |p| p.now())
    }

    async fn sleep_ms(ms: i32) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        });
        let _ = JsFuture::from(promise).await;
    }

    fn all(root: &Element, selector: &str) -> Vec<Element> {
        let Ok(list) = root.query_selector_all(selector) else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i).and_then(|node| node.dyn_into().ok()))
            .collect()
    }

    fn fab(page: &Page) -> Option<Element> {
        page.root.query_selector(".zc-fab").ok().flatten()
    }

    /// The banner leaves the page and the settings button takes its place.
    fn close_banner(page: &Page) {
        if let Ok(Some(banner)) = page.root.query_selector(".zc-banner") {
            banner.remove();
            page.banner.replace(Some(banner));
        }
        if let Some(fab) = fab(page) {
            let _ = fab.remove_attribute("hidden");
        }
    }

    fn show_errors(page: &Page, failure: Option<&Failure>) {
        for slot in all(&page.root, &format!("[{}]", marks::ERROR_SLOT)) {
            slot.set_inner_html("");
            if let Some(failure) = failure {
                let notice = leptos::prelude::document().create_element("p").ok();
                if let Some(notice) = notice {
                    let _ = notice.set_attribute("class", "zc-error");
                    let _ = notice.set_attribute("role", "alert");
                    let _ = notice.set_attribute("data-error-code", &failure.code);
                    notice.set_text_content(Some(&failure.message));
                    let _ = slot.append_child(&notice);
                }
            }
        }
    }

    fn show_pending(page: &Page) {
        show_errors(page, None);
        close_banner(page);
    }

    /// Not saved: say why. A banner closed while the choice waited comes back, unless a choice
    /// was recorded on this page before.
    fn show_failure(page: &Page, failure: &Failure) {
        if !page.recorded.get()
            && let Some(banner) = page.banner.take()
        {
            match fab(page) {
                Some(fab) => {
                    let _ = fab.before_with_node_1(&banner);
                    let _ = fab.set_attribute("hidden", "");
                }
                None => {
                    let _ = page.root.prepend_with_node_1(&banner);
                }
            }
        }
        show_errors(page, Some(failure));
    }

    fn show_recorded(page: &Page, choice: &Recorded) {
        page.recorded.set(true);
        clear_storage(&choice.clear_storage);
        show_errors(page, None);
        close_banner(page);
        if let Some(dialog) = dialog() {
            dialog.close();
        }
        for section in all(&page.root, &format!("[{}]", marks::CURRENT_CHOICE)) {
            show_current(&section, choice);
        }
    }

    /// The current-choice section, as the server would render it after this choice.
    fn show_current(section: &Element, choice: &Recorded) {
        let text = |name: &str| section.get_attribute(name).unwrap_or_default();
        for item in all(section, "li[data-category]") {
            let id = item.get_attribute("data-category").unwrap_or_default();
            let state = super::category_state(&choice.categories, &id);
            let _ = item.set_attribute("data-state", state);
            if let Ok(Some(label)) = item.query_selector(&format!("[{}]", marks::STATE_LABEL)) {
                label.set_text_content(Some(&text(&format!("data-{state}"))));
            }
        }
        if let Ok(Some(line)) = section.query_selector(&format!("[{}]", marks::MADE_ON)) {
            let mut made_on = super::made_on_text(
                &text("data-made-on"),
                choice.decided_at,
                &choice.policy_version,
            );
            if choice.action == "gpc" {
                made_on = format!("{made_on} {}", text("data-via-gpc"));
            }
            line.set_text_content(Some(&made_on));
        }
        if let Ok(Some(link)) = section.query_selector(&format!("[{}]", marks::RECEIPT)) {
            let href = link
                .get_attribute(marks::RECEIPT)
                .unwrap_or_default()
                .replace("{id}", &choice.event_id);
            let _ = link.set_attribute("href", &href);
        }
        for (selector, shown) in [(marks::NO_CHOICE, false), (marks::CHOICE, true)] {
            if let Ok(Some(part)) = section.query_selector(&format!("[{selector}]")) {
                let _ = part.toggle_attribute_with_force("hidden", !shown);
            }
        }
        if let Ok(Some(line)) = section.query_selector(&format!("[{}]", marks::SAVED)) {
            line.set_text_content(Some(&text("data-saved")));
        }
    }

    /// Removes the localStorage / sessionStorage keys of refused categories; a key listed as
    /// `prefix*` removes every key with that prefix. The embed loader follows the same rule
    /// (`delivery::rules`).
    fn clear_storage(keys: &[(String, String)]) {
        for (kind, name) in keys {
            let storage = match kind.as_str() {
                LOCAL_STORAGE => window().local_storage(),
                SESSION_STORAGE => window().session_storage(),
                _ => continue,
            };
            let Ok(Some(storage)) = storage else {
                continue;
            };
            match name.strip_suffix(STORAGE_WILDCARD) {
                None => {
                    let _ = storage.remove_item(name);
                }
                Some(prefix) => {
                    let count = storage.length().unwrap_or(0);
                    let matching: Vec<String> = (0..count)
                        .filter_map(|i| storage.key(i).ok().flatten())
                        .filter(|key| key.starts_with(prefix))
                        .collect();
                    for key in matching {
                        let _ = storage.remove_item(&key);
                    }
                }
            }
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    /// On the server there is nothing to enhance: effects do not run there.
    pub fn enhance(_marker: &leptos::web_sys::HtmlElement) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_category_is_allowed_refused_or_never_decided() {
        let categories = vec![
            ("analytics".to_owned(), true),
            ("preferences".to_owned(), false),
        ];
        assert_eq!(category_state(&categories, "analytics"), "allowed");
        assert_eq!(category_state(&categories, "preferences"), "refused");
        assert_eq!(category_state(&categories, "marketing"), "undecided");
    }

    #[test]
    fn the_made_on_line_names_the_date_in_utc_and_the_version() {
        assert_eq!(
            made_on_text(
                "Made on {date} under version {version}.",
                1_780_000_000,
                "2026-05"
            ),
            "Made on 2026-05-28 20:26 UTC under version 2026-05."
        );
    }
}
