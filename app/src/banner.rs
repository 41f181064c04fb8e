//! The consent banner: rendered on the server so it is there at first paint, usable as plain
//! forms without JavaScript; the island beside it (`enhance::ConsentForms`) records choices
//! without a reload once its WASM runs.

use crate::PagePath;
use crate::consent_api::{FROM_PREFERENCES, RecordConsent, UiError};
use crate::domain::language::{SUPPORTED_LANGUAGES, native_name};
use crate::domain::{
    CategoryView, ConsentAction, ConsentStatus, CurrentConsent, IdentifierView, PromptReason,
};
use crate::i18n::ui_text;
use crate::preference_center::{Place, preferences_href};
use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The banner if the visitor must be asked, and the privacy-settings button that takes its
/// place once a choice is made: rendered hidden beside the banner, for the island to show.
/// GPC is not the visitor's choice: after it the banner still asks about the rest.
#[component]
pub fn ConsentBanner(status: ConsentStatus) -> impl IntoView {
    let prompt = status.needs_prompt();
    let language = status.policy.language.clone();
    view! {
        {prompt.then(|| view! { <BannerBody status/> })}
        <PrivacySettingsButton language hidden=prompt/>
    }
    .into_any()
}

/// The small, always-present button that reopens the preference center once the banner is gone.
#[component]
fn PrivacySettingsButton(language: String, hidden: bool) -> impl IntoView {
    let ui = ui_text(&language);
    view! {
        <a
            class="zc-fab"
            href=preferences_href(&language)
            hidden=hidden
            data-opens-dialog=""
            data-testid="privacy-settings-button"
        >
            <svg class="zc-fab__icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
                <path fill="currentColor" d="M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3Zm0 2.2 6 2.2V11c0 3.9-2.5 7.6-6 8.8-3.5-1.2-6-4.9-6-8.8V6.4l6-2.2Z"/>
            </svg>
            <span class="zc-fab__label">{ui.privacy_settings}</span>
        </a>
    }
}

#[component]
pub fn BannerBody(status: ConsentStatus) -> impl IntoView {
    // Recorded by the server from the browser's Sec-GPC header, before the page was sent.
    let gpc_applied = status.gpc_applied();
    let notice_changed = matches!(status.prompt, Some(PromptReason::NoticeChanged));
    let policy = status.policy;
    let text = policy.banner;
    // Plain values, not stored ones: a page abandoned mid-render (the client went away) drops
    // its reactive owner while the render may still run, and a disposed value would panic.
    let version = policy.version;
    let language = policy.language.clone();
    let lang = policy.language.clone();
    let notice_url = policy.notice_url;

    view! {
        <section
            class="zc-banner"
            role="region"
            aria-labelledby="zc-banner-title"
            data-testid="consent-banner"
            lang=lang
        >
            <div class="zc-banner__head">
                <h2 id="zc-banner-title" class="zc-banner__title">{text.title}</h2>
                <LanguageSwitcher current=policy.language.clone() id="zc-lang-banner".to_owned()/>
            </div>
            {notice_changed
                .then(|| {
                    view! {
                        <p class="zc-banner__changed" data-testid="notice-changed">
                            {text.notice_changed} " "
                            <a href=notice_url.clone()>{text.notice_link.clone()}</a>
                        </p>
                    }
                })}
            {gpc_applied
                .then(|| {
                    view! {
                        <p class="zc-banner__gpc" data-testid="gpc-honoured">{text.gpc_honoured.clone()}</p>
                    }
                })}
            <p class="zc-banner__body">
                {text.body} " " <a href=notice_url>{text.notice_link}</a>
            </p>
            <div data-error-slot=""></div>
            <div class="zc-banner__actions">
                // One component for both: Accept and Reject must carry equal weight.
                <OneClickChoice version=version.clone() language=language.clone() action=ConsentAction::AcceptAll label=text.accept_all from=None/>
                <OneClickChoice version language action=ConsentAction::RejectAll label=text.reject_all from=None/>
                // The second layer: the dialog when hydrated, the /preferences page without JS.
                <a
                    class="zc-btn zc-btn--secondary"
                    href=preferences_href(&policy.language)
                    data-action="customize"
                    // Embedded in another site there is no dialog and no WASM: the loader
                    // opens the center there.
                    data-opens-dialog=""
                >
                    {text.customize}
                </a>
            </div>
        </section>
    }
    .into_any()
}

/// A plain GET form, so switching language works without JavaScript too.
#[component]
pub fn LanguageSwitcher(current: String, id: String) -> impl IntoView {
    let ui = ui_text(&current);
    // Embedded in another site the loader handles the switch itself; on the service's pages
    // the form reloads the page it is on.
    let action = if use_context::<crate::preference_center::ServiceBase>().is_some() {
        "/".to_owned()
    } else {
        use_context::<PagePath>().map_or_else(|| "/".to_owned(), |path| path.0)
    };
    let options = SUPPORTED_LANGUAGES
        .iter()
        .map(|&language| {
            view! {
                <option value=language selected=language == current lang=language>
                    {native_name(language)}
                </option>
            }
        })
        .collect_view();
    view! {
        <form method="get" action=action class="zc-lang" data-testid="language-switcher">
            <label for=id.clone()>{ui.language}</label>
            <select id=id name="lang">{options}</select>
            <button type="submit" class="zc-btn zc-btn--small">{ui.change_language}</button>
        </form>
    }
}

/// A form with a single button that records one action (accept all, reject all, withdraw).
/// The policy version shown travels with every choice: it is what the visitor agreed to.
#[component]
pub fn OneClickChoice(
    version: String,
    language: String,
    action: ConsentAction,
    label: String,
    from: Option<&'static str>,
) -> impl IntoView {
    view! {
        <RecordForm>
            <input type="hidden" name="policy_version" value=version/>
            <input type="hidden" name="language" value=language/>
            <input type="hidden" name="action" value=action.as_str()/>
            {from.map(|from| view! { <input type="hidden" name="from" value=from/> })}
            <button type="submit" class="zc-btn zc-btn--choice" data-action=action.as_str()>
                {label}
            </button>
        </RecordForm>
    }
}

/// A form that posts a choice to `record_consent`: a plain HTML form without JavaScript, and
/// posted by the island (`enhance`) with it.
#[component]
fn RecordForm(children: Children) -> impl IntoView {
    view! {
        <form method="post" action=RecordConsent::url() data-records-choice="">
            {children()}
        </form>
    }
}

/// The category form's own texts, from the policy's banner text.
#[derive(Debug, Clone)]
pub struct CategoryFormLabels {
    /// Shown instead of a checkbox for a required category.
    pub always_on: String,
    /// The label of each category's list of identifiers.
    pub identifiers: String,
    /// The submit button.
    pub save: String,
}

/// Every category with its purpose and identifiers; optional ones as checkboxes showing the
/// visitor's current state (a category never decided is unticked), submitted as a custom choice.
/// Only the preference center shows it, so it always says it was sent from there.
#[component]
pub fn CategoryForm(
    version: String,
    language: String,
    categories: Vec<CategoryView>,
    current: Option<CurrentConsent>,
    labels: CategoryFormLabels,
    place: Place,
) -> impl IntoView {
    let CategoryFormLabels {
        always_on,
        identifiers,
        save,
    } = labels;
    let items = categories
        .into_iter()
        .map(|category| {
            let granted = current
                .as_ref()
                .and_then(|c| c.state(&category.id))
                .unwrap_or(false);
            view! {
                <CategoryItem
                    category
                    granted
                    place
                    always_on=always_on.clone()
                    identifiers_label=identifiers.clone()
                />
            }
        })
        .collect_view();
    view! {
        <RecordForm>
            <input type="hidden" name="policy_version" value=version/>
            <input type="hidden" name="language" value=language/>
            <input type="hidden" name="action" value="custom"/>
            <input type="hidden" name="from" value=FROM_PREFERENCES/>
            <ul class="zc-categories">{items}</ul>
            <button type="submit" class="zc-btn zc-btn--choice" data-action="save">
                {save}
            </button>
        </RecordForm>
    }
}

#[component]
fn CategoryItem(
    category: CategoryView,
    granted: bool,
    always_on: String,
    identifiers_label: String,
    place: Place,
) -> impl IntoView {
    let input_id = format!("zc-{}-category-{}", place.id_prefix(), category.id);
    let description_id = format!("{input_id}-purpose");
    let control = if category.required {
        Either::Left(view! {
            <span class="zc-category__title">{category.title}</span>
            <span class="zc-category__always">{always_on}</span>
        })
    } else {
        Either::Right(view! {
            <input
                type="checkbox"
                id=input_id.clone()
                name=format!("categories[{}]", category.id)
                value="on"
                checked=granted
                aria-describedby=description_id.clone()
            />
            <label for=input_id class="zc-category__title">{category.title}</label>
        })
    };
    view! {
        <li class="zc-category" data-category=category.id.clone()>
            {control}
            <p id=description_id class="zc-category__purpose">{category.description}</p>
            <IdentifierList label=identifiers_label identifiers=category.identifiers/>
        </li>
    }
}

/// The registry entries of one category, folded: the same data as the notice's table.
#[component]
fn IdentifierList(label: String, identifiers: Vec<IdentifierView>) -> impl IntoView {
    (!identifiers.is_empty()).then(|| {
        let count = identifiers.len();
        view! {
            <details class="zc-identifiers">
                <summary>{format!("{label} ({count})")}</summary>
                <ul>
                    {identifiers
                        .into_iter()
                        .map(|identifier| {
                            let name = identifier.name.clone();
                            view! {
                                <li data-identifier=name>
                                    <code>{identifier.name}</code>
                                    " · "
                                    {identifier.provider}
                                    " · "
                                    {identifier.duration}
                                    <br/>
                                    {identifier.purpose}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </details>
        }
    })
}

#[component]
pub fn ErrorNotice(error: UiError) -> impl IntoView {
    view! {
        <p class="zc-error" role="alert" data-error-code=error.code>
            {error.message}
        </p>
    }
}
