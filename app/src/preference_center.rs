//! The preference center's own page, `/preferences`: the center (`widgets::PreferenceCenter`,
//! the same component as the dialog on every other page) and "Your data". Rendered on the
//! server as plain forms; the island beside the center (`widgets::ConsentForms`) records
//! choices without a reload and shows the new current choice.

use crate::PREFERENCES_PATH;
use crate::consent_api::{UiError, get_my_data};
use crate::domain::date::format_utc;
use crate::domain::my_data::MyData;
use crate::i18n::{UiText, ui_text};
use crate::widgets::{
    ConsentForms, ErrorNotice, PagePath, Place, PreferenceCenter, WithStatus, preferences_href,
};
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
    data: Result<MyData, UiError>,
    language: &str,
    erased: Option<String>,
) -> String {
    let ui = ui_text(language);
    let language = language.to_owned();
    crate::render_html(move || your_data_section(data, ui, language, erased))
}

fn your_data_section(
    data: Result<MyData, UiError>,
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
                    // Anyone can check this against the log's signed head, without trusting
                    // the service's database (docs/verify-a-receipt.md).
                    let proof = (!decision.event_id.is_empty()).then(|| {
                        let href = format!(
                            "{}/api/v1/log/inclusion?event_id={}",
                            crate::widgets::service_base(),
                            decision.event_id
                        );
                        view! {
                            " · " <a href=href data-testid="decision-proof">{ui.data_proof}</a>
                        }
                    });
                    view! {
                        <li data-action=action>
                            {format_utc(decision.at)} " · " <code>{decision.action}</code> " · "
                            {decision.policy_version}
                            {decision.network.map(|network| format!(" · {network}"))}
                            {proof}
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
