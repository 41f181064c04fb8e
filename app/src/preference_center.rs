//! The preference center (second layer): the same component as a modal dialog on every page
//! (hydrated) and as the `/preferences` page (which also works without JavaScript).

use crate::banner::{
    CategoryForm, CategoryFormLabels, ErrorNotice, LanguageSwitcher, OneClickChoice,
};
use crate::consent_api::{FROM_PREFERENCES, RecordConsent, get_my_data};
use crate::domain::date::format_utc;
use crate::domain::my_data::MyData;
use crate::domain::{ConsentAction, ConsentStatus, CurrentConsent};
use crate::i18n::{UiText, ui_text};
use crate::{ConsentContext, PREFERENCES_PATH, PagePath, WithStatus, hydration_marker};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/preferences`, reachable from every page and usable with plain forms.
#[component]
pub fn PreferencesPage() -> impl IntoView {
    view! {
        <WithStatus let:status>
            {
                let ui = ui_text(&status.policy.language);
                let language = status.policy.language.clone();
                view! {
                    <Title text=format!("{} - ZecCloud", ui.privacy_settings)/>
                    <article class="zc-prose zc-preferences">
                        <h1 id="zc-pc-title">{ui.privacy_settings}</h1>
                        <PreferencesIsland status/>
                        <YourData ui language/>
                    </article>
                }
            }
        </WithStatus>
    }
    .into_any()
}

/// The center on its own page, as an island: "Your data" around it stays plain HTML.
#[island]
fn PreferencesIsland(status: ConsentStatus) -> impl IntoView {
    provide_context(PagePath(PREFERENCES_PATH.to_owned()));
    let ConsentContext { record, .. } = ConsentContext::provide();
    let hydrated = hydration_marker();
    view! {
        <div class="zc-preferences__center" data-hydrated=hydrated>
            <PreferenceCenter status record place=Place::Page/>
        </div>
    }
}

/// The footer's link to the preference center: the dialog where the page has one, the
/// `/preferences` page otherwise (and without JavaScript).
#[island]
pub fn PrivacySettingsLink(language: String) -> impl IntoView {
    let ui = ui_text(&language);
    let hydrated = hydration_marker();
    view! {
        <a
            href=preferences_href(&language)
            data-testid="privacy-settings"
            data-hydrated=hydrated
            on:click=open_dialog
        >
            {ui.privacy_settings}
        </a>
    }
}

/// Where the erasure form posts (a plain form: it works the same with JavaScript off).
pub const ERASE_PATH: &str = "/preferences/erase";

/// "Your data" (notice §07): download everything stored under the visitor's SSAID, or erase it
/// after ticking a confirmation. After an erasure the page shows its reference.
#[component]
fn YourData(ui: &'static UiText, language: String) -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let stored = Resource::new(|| (), |()| get_my_data());
    // Only the shape of an erasure id is shown back.
    let erased = move || {
        query
            .read()
            .get("erased")
            .filter(|id| id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
    };
    view! {
        <section class="zc-your-data" aria-labelledby="zc-page-data" data-testid="your-data">
            <h2 id="zc-page-data">{ui.your_data_title}</h2>
            <p role="status" data-testid="erased-notice">
                {move || erased().map(|id| ui.erased_notice.replace("{id}", &id))}
            </p>
            <p>{ui.your_data_text}</p>
            // Its own boundary: the stored data is read after the status that rendered the page.
            <Suspense fallback=|| ()>
                {move || stored.get().map(|data| match data {
                    Ok(data) => stored_data(data, ui),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                })}
            </Suspense>
            <p>
                <a href="/api/v1/me" download="zeccloud-consent-my-data.json" data-testid="download-data">
                    {ui.download_data}
                </a>
            </p>
            <form method="post" action=ERASE_PATH data-testid="erase-form">
                <input type="hidden" name="lang" value=language/>
                <p>
                    <label>
                        <input type="checkbox" name="confirm" value="yes" required=true data-testid="erase-confirm"/>
                        " " {ui.erase_confirm}
                    </label>
                </p>
                <button type="submit" class="zc-btn zc-btn--secondary" data-action="erase">
                    {ui.erase_button}
                </button>
            </form>
        </section>
    }
    .into_any()
}

/// The stored data in short: the identifier, each decision, each sighting, Matomo's id.
fn stored_data(data: MyData, ui: &'static UiText) -> AnyView {
    let issued = data
        .issued_at
        .map(|at| ui.data_issued.replace("{date}", &format_utc(at)));
    let not_stored = (!data.stored).then_some(ui.data_not_stored);
    let earlier = |count: usize| {
        (count > 0).then(|| {
            view! {
                <p data-testid="stored-earlier">{ui.data_earlier.replace("{n}", &count.to_string())}</p>
            }
        })
    };
    let earlier_decisions = earlier(data.earlier_decisions);
    let earlier_sightings = earlier(data.earlier_sightings);
    let decisions = if data.decisions.is_empty() {
        Either::Left(view! { <p>{ui.data_none}</p> })
    } else {
        Either::Right(view! {
            <ul data-testid="stored-decisions">
                {data.decisions.into_iter().map(|decision| {
                    let action = decision.action.clone();
                    view! {
                        <li data-action=action>
                            {format_utc(decision.at)} " · " <code>{decision.action}</code> " · "
                            {decision.policy_version}
                            {decision.network.map(|network| format!(" · {network}"))}
                        </li>
                    }
                }).collect_view()}
            </ul>
        })
    };
    let sightings = if data.sightings.is_empty() {
        Either::Left(view! { <p>{ui.data_none}</p> })
    } else {
        Either::Right(view! {
            <ul data-testid="stored-sightings">
                {data.sightings.into_iter().map(|sighting| view! {
                    <li>{sighting.day} " · " {sighting.network} " · " {sighting.service}</li>
                }).collect_view()}
            </ul>
        })
    };
    view! {
        <dl class="zc-stored" data-testid="stored-data">
            <dt>{ui.data_identifier}</dt>
            <dd><code data-testid="stored-ssaid">{data.ssaid}</code> " " {issued} " " {not_stored}</dd>
            <dt>{ui.data_decisions}</dt>
            <dd>{decisions} {earlier_decisions}</dd>
            <dt>{ui.data_sightings}</dt>
            <dd>{sightings} {earlier_sightings}</dd>
            <dt>{ui.data_matomo}</dt>
            <dd><code data-testid="stored-matomo-id">{data.matomo_visitor_id}</code></dd>
        </dl>
    }
    .into_any()
}

/// The preference center as a modal dialog, opened by Customize and the privacy-settings
/// button. A native `<dialog>` opened with `showModal()`: the page behind is inert, focus moves
/// in and stays in, Esc closes it and focus returns to the control that opened it.
#[component]
pub fn PreferenceDialog(status: ConsentStatus) -> impl IntoView {
    let ConsentContext { record, dialog, .. } = expect_context();
    let close = move |_| {
        if let Some(dialog) = dialog.get() {
            dialog.close();
        }
    };
    // A recorded choice (not the browser's GPC default) is the end of the dialog's job.
    Effect::new(move || {
        if matches!(record.value().get(), Some(Ok(choice)) if choice.consent.action.is_explicit())
            && let Some(dialog) = dialog.get_untracked()
        {
            dialog.close();
        }
    });
    let ui = ui_text(&status.policy.language);
    crate::boxed_on_server(view! {
        <dialog
            node_ref=dialog
            id=DIALOG_ID
            class="zc-dialog"
            aria-labelledby="zc-pc-title"
            data-testid="preference-dialog"
        >
            <div class="zc-dialog__head">
                <h2 id="zc-pc-title">{ui.privacy_settings}</h2>
                <button type="button" class="zc-btn zc-btn--secondary zc-dialog__close" on:click=close data-action="close">
                    {ui.close}
                </button>
            </div>
            <PreferenceCenter status record place=Place::Dialog/>
        </dialog>
    })
}

/// The dialog's element id: the footer's link is an island of its own and finds it by id.
const DIALOG_ID: &str = "zc-preference-dialog";

/// Opens the dialog if this page has it; otherwise lets the link go to `/preferences`.
pub fn open_dialog(event: leptos::ev::MouseEvent) {
    use leptos::wasm_bindgen::JsCast;
    let dialog = document().get_element_by_id(DIALOG_ID).and_then(|element| {
        element
            .dyn_into::<leptos::web_sys::HtmlDialogElement>()
            .ok()
    });
    if let Some(dialog) = dialog {
        event.prevent_default();
        if !dialog.open() {
            let _ = dialog.show_modal();
        }
    }
}

/// The link to the preference center, in the visitor's language; absolute when embedded.
pub fn preferences_href(language: &str) -> String {
    format!("{}{PREFERENCES_PATH}?lang={language}", service_base())
}

/// The service's origin when rendered for another site's page (links must not resolve against
/// the host page); empty on the service's own pages.
#[derive(Debug, Clone)]
pub struct ServiceBase(pub String);

pub fn service_base() -> String {
    use_context::<ServiceBase>()
        .map(|base| base.0)
        .unwrap_or_default()
}

/// Where a preference center is shown. Its element ids carry the place (`zc-page-current`,
/// `zc-dialog-category-analytics`), so they stay unique where two could be on one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The `/preferences` page.
    Page,
    /// The dialog on the service's other pages.
    Dialog,
    /// The dialog on another site's page.
    Embed,
}

impl Place {
    /// The part of element ids after `zc-`.
    pub fn id_prefix(self) -> &'static str {
        match self {
            Place::Page => "page",
            Place::Dialog => "dialog",
            Place::Embed => "embed",
        }
    }
}

#[component]
pub fn PreferenceCenter(
    status: ConsentStatus,
    record: ServerAction<RecordConsent>,
    place: Place,
) -> impl IntoView {
    let ui = ui_text(&status.policy.language);
    let initial = status.current.clone();
    // The decision just made here (hydrated) replaces the one the page was rendered with.
    let current = move || match record.value().get() {
        Some(Ok(choice)) => Some(choice.consent),
        _ => initial.clone(),
    };
    let failure = move || match record.value().get() {
        Some(Err(error)) => Some(view! { <ErrorNotice error/> }),
        _ => None,
    };
    let saved = move || matches!(record.value().get(), Some(Ok(_)));
    let policy = status.policy;
    let text = policy.banner.clone();
    let version = StoredValue::new(policy.version.clone());
    let language = StoredValue::new(policy.language.clone());
    let titles = StoredValue::new(
        policy
            .categories
            .iter()
            .map(|c| (c.id.clone(), c.title.clone()))
            .collect::<Vec<_>>(),
    );
    let heading = |id: &str| format!("zc-{}-{id}", place.id_prefix());
    crate::boxed_on_server(view! {
        <LanguageSwitcher current=policy.language.clone() id=heading("lang")/>
        <section class="zc-current" aria-labelledby=heading("current") data-testid="current-choice">
            <h2 id=heading("current")>{ui.current_choice}</h2>
            <p role="status" class="zc-saved">{move || saved().then_some(ui.saved)}</p>
            {move || match current() {
                Some(consent) => Either::Left(current_choice(consent, titles.get_value(), ui)),
                None => Either::Right(view! { <p>{ui.no_choice}</p> }),
            }}
        </section>
        {failure}
        <section aria-labelledby=heading("change")>
            <h2 id=heading("change")>{ui.change_choice}</h2>
            <p>
                {ui.policy_version.replace("{version}", &policy.version)} " "
                <a href=policy.notice_url.clone()>{text.notice_link.clone()}</a>
                " · "
                <a href=format!("{}/notice#identifiers", service_base())>{ui.cookies_and_identifiers}</a>
            </p>
            <CategoryForm
                record
                version
                language
                categories=policy.categories
                current=status.current
                labels=CategoryFormLabels {
                    always_on: text.always_on,
                    identifiers: text.identifiers,
                    save: text.save,
                }
                place
            />
        </section>
        <section aria-labelledby=heading("withdraw")>
            <h2 id=heading("withdraw")>{ui.withdraw_title}</h2>
            <p>{ui.withdraw_text}</p>
            <OneClickChoice
                record
                version
                language
                action=ConsentAction::Withdraw
                label=ui.withdraw_button.to_owned()
                from=Some(FROM_PREFERENCES)
            />
        </section>
    })
}

fn current_choice(
    consent: CurrentConsent,
    titles: Vec<(String, String)>,
    ui: &'static UiText,
) -> impl IntoView {
    let receipt = format!(
        "{}/api/v1/consent/{}/receipt",
        service_base(),
        consent.event_id
    );
    let states = titles
        .into_iter()
        .map(|(id, title)| {
            let (state, label) = match consent.state(&id) {
                Some(true) => ("allowed", ui.allowed),
                Some(false) => ("refused", ui.refused),
                None => ("undecided", ui.undecided),
            };
            view! {
                <li data-category=id.clone() data-state=state>
                    <strong>{title}</strong> ": " {label}
                </li>
            }
        })
        .collect_view();
    let made_on = ui
        .made_on
        .replace("{date}", &format_utc(consent.decided_at))
        .replace("{version}", &consent.policy_version);
    let via_gpc = (consent.action == ConsentAction::Gpc).then_some(ui.via_gpc);
    view! {
        <p>{made_on} " " {via_gpc}</p>
        <ul class="zc-states">{states}</ul>
        <p>
            <a href=receipt download="" data-testid="receipt-link">{ui.download_receipt}</a>
            " — "
            {ui.receipt_hint}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_ids_name_the_place_as_the_browser_tests_expect() {
        assert_eq!(
            [Place::Page, Place::Dialog, Place::Embed].map(Place::id_prefix),
            ["page", "dialog", "embed"]
        );
    }

    #[test]
    fn preference_links_keep_the_language() {
        assert_eq!(preferences_href("ja"), "/preferences?lang=ja");
    }
}
