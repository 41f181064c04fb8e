//! The preference center (second layer): the same component as a modal dialog on every page
//! and as the `/preferences` page. Rendered on the server as plain forms; the island beside it
//! (`enhance::ConsentForms`) records choices without a reload and shows the new current choice.

use crate::banner::{
    CategoryForm, CategoryFormLabels, ErrorNotice, LanguageSwitcher, OneClickChoice,
};
use crate::consent_api::{FROM_PREFERENCES, get_my_data};
use crate::domain::date::format_utc;
use crate::domain::my_data::MyData;
use crate::domain::{ConsentAction, ConsentStatus, CurrentConsent};
use crate::enhance::{ConsentForms, category_state, made_on_text};
use crate::i18n::{UiText, ui_text};
use crate::{PREFERENCES_PATH, PagePath, WithStatus};
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
                provide_context(PagePath(PREFERENCES_PATH.to_owned()));
                view! {
                    <Title text=format!("{} - ZecCloud", ui.privacy_settings)/>
                    <article class="zc-prose zc-preferences">
                        <h1 id="zc-pc-title">{ui.privacy_settings}</h1>
                        <div class="zc-preferences__center">
                            <ConsentForms>
                                <PreferenceCenter status place=Place::Page/>
                            </ConsentForms>
                        </div>
                        <YourData ui language/>
                    </article>
                }
            }
        </WithStatus>
    }
    .into_any()
}

/// The footer's link to the preference center: the dialog where the page has one (the island
/// opens it), the `/preferences` page otherwise and without JavaScript.
#[component]
pub fn PrivacySettingsLink(language: String) -> impl IntoView {
    let ui = ui_text(&language);
    view! {
        <a href=preferences_href(&language) data-testid="privacy-settings" data-opens-dialog="">
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
    let stored = Resource::new(|| (), |()| get_my_data());
    // Read once, while the page is being built: the page is server-rendered only, and a
    // reactive read could outlive an abandoned render.
    let erased = erased_reference(
        leptos_router::hooks::use_query_map()
            .get_untracked()
            .get("erased")
            .as_deref(),
    );
    view! {
        // Its own boundary: the stored data is read after the status that rendered the page.
        <Suspense fallback=|| ()>
            // `try_get`: an abandoned page's render may outlive the resource.
            {move || {
                stored
                    .try_get()
                    .flatten()
                    .map(|data| your_data_section(data, ui, language.clone(), erased.clone()))
            }}
        </Suspense>
    }
    .into_any()
}

/// The erasure reference `?erased=` carries, if it has the shape of one: only that is shown
/// back.
pub fn erased_reference(query_value: Option<&str>) -> Option<String> {
    query_value
        .filter(|id| id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        .map(str::to_owned)
}

/// "Your data" as HTML on its own: exactly the section `/preferences` shows, for the page
/// cache to put into a kept page (it is the visitor's own part of it).
#[cfg(feature = "ssr")]
pub fn your_data_html(
    data: Result<MyData, crate::UiError>,
    language: &str,
    erased: Option<String>,
) -> String {
    let ui = ui_text(language);
    let language = language.to_owned();
    crate::render_html(move || your_data_section(data, ui, language, erased))
}

fn your_data_section(
    data: Result<MyData, crate::UiError>,
    ui: &'static UiText,
    language: String,
    erased: Option<String>,
) -> AnyView {
    let stored = match data {
        Ok(data) => stored_data(data, ui),
        Err(error) => view! { <ErrorNotice error/> }.into_any(),
    };
    view! {
        <section class="zc-your-data" aria-labelledby="zc-page-data" data-testid="your-data">
            <h2 id="zc-page-data">{ui.your_data_title}</h2>
            <p role="status" data-testid="erased-notice">
                {erased.map(|id| ui.erased_notice.replace("{id}", &id))}
            </p>
            <p>{ui.your_data_text}</p>
            {stored}
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
/// button (by the island on the service's pages, by the loader on another site's). A native
/// `<dialog>` opened with `showModal()`: the page behind is inert, focus moves in and stays in,
/// Esc closes it and focus returns to the control that opened it.
#[component]
pub fn PreferenceDialog(status: ConsentStatus, place: Place) -> impl IntoView {
    let ui = ui_text(&status.policy.language);
    let language = status.policy.language.clone();
    view! {
        <dialog
            class="zc-dialog"
            aria-labelledby="zc-pc-title"
            data-testid="preference-dialog"
            lang=language
        >
            <div class="zc-dialog__head">
                <h2 id="zc-pc-title">{ui.privacy_settings}</h2>
                <button type="button" class="zc-btn zc-btn--secondary zc-dialog__close" data-action="close">
                    {ui.close}
                </button>
            </div>
            <PreferenceCenter status place/>
        </dialog>
    }
    .into_any()
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
pub fn PreferenceCenter(status: ConsentStatus, place: Place) -> impl IntoView {
    let ui = ui_text(&status.policy.language);
    let policy = status.policy;
    let text = policy.banner.clone();
    let version = policy.version.clone();
    let language = policy.language.clone();
    let titles: Vec<(String, String)> = policy
        .categories
        .iter()
        .map(|c| (c.id.clone(), c.title.clone()))
        .collect();
    let heading = |id: &str| format!("zc-{}-{id}", place.id_prefix());
    view! {
        <LanguageSwitcher current=policy.language.clone() id=heading("lang")/>
        <CurrentChoice current=status.current.clone() titles ui heading=heading("current")/>
        <div data-error-slot=""></div>
        <section aria-labelledby=heading("change")>
            <h2 id=heading("change")>{ui.change_choice}</h2>
            <p>
                {ui.policy_version.replace("{version}", &policy.version)} " "
                <a href=policy.notice_url.clone()>{text.notice_link.clone()}</a>
                " · "
                <a href=format!("{}/notice#identifiers", service_base())>{ui.cookies_and_identifiers}</a>
            </p>
            <CategoryForm
                version=version.clone()
                language=language.clone()
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
                version
                language
                action=ConsentAction::Withdraw
                label=ui.withdraw_button.to_owned()
                from=Some(FROM_PREFERENCES)
            />
        </section>
    }
    .into_any()
}

/// "Your current choice": each category's state, when and under which version, the receipt.
/// Rendered complete even before any choice (hidden), and carrying the texts a new choice is
/// shown with: the island fills it in after a choice, as this would render it (`enhance`).
#[component]
fn CurrentChoice(
    current: Option<CurrentConsent>,
    titles: Vec<(String, String)>,
    ui: &'static UiText,
    heading: String,
) -> impl IntoView {
    let categories: Vec<(String, bool)> = current
        .as_ref()
        .map(|c| c.categories.clone().into_iter().collect())
        .unwrap_or_default();
    let states = titles
        .into_iter()
        .map(|(id, title)| {
            let state = category_state(&categories, &id);
            let label = state_label(ui, state);
            view! {
                <li data-category=id data-state=state>
                    <strong>{title}</strong> ": " <span data-state-label="">{label}</span>
                </li>
            }
        })
        .collect_view();
    let made_on = current.as_ref().map(|consent| {
        let line = made_on_text(ui.made_on, consent.decided_at, &consent.policy_version);
        if consent.action == ConsentAction::Gpc {
            format!("{line} {}", ui.via_gpc)
        } else {
            line
        }
    });
    let receipt_template = format!("{}/api/v1/consent/{{id}}/receipt", service_base());
    let receipt = current
        .as_ref()
        .map(|consent| receipt_template.replace("{id}", &consent.event_id));
    let decided = current.is_some();
    let labelled_by = heading.clone();
    view! {
        <section
            class="zc-current"
            aria-labelledby=labelled_by
            data-testid="current-choice"
            data-current-choice=""
            data-allowed=ui.allowed
            data-refused=ui.refused
            data-undecided=ui.undecided
            data-saved=ui.saved
            data-made-on=ui.made_on
            data-via-gpc=ui.via_gpc
        >
            <h2 id=heading>{ui.current_choice}</h2>
            <p role="status" class="zc-saved" data-saved-line=""></p>
            <p data-no-choice="" hidden=decided>{ui.no_choice}</p>
            <div data-choice="" hidden=!decided>
                <p data-made-on-line="">{made_on}</p>
                <ul class="zc-states">{states}</ul>
                <p>
                    <a href=receipt data-receipt=receipt_template download="" data-testid="receipt-link">
                        {ui.download_receipt}
                    </a>
                    " — "
                    {ui.receipt_hint}
                </p>
            </div>
        </section>
    }
}

/// The word for a category's state, in the page's language.
fn state_label(ui: &'static UiText, state: &str) -> &'static str {
    match state {
        "allowed" => ui.allowed,
        "refused" => ui.refused,
        _ => ui.undecided,
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
