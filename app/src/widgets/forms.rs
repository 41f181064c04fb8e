//! The forms a choice is made with: plain HTML forms that work without JavaScript, in the box
//! whose island (`enhance.rs`) posts them with `fetch` once its WASM runs.

use super::page::PagePath;
use super::place::{Place, ServiceBase};
use crate::consent_api::{FROM_PREFERENCES, RecordConsent};
use crate::domain::language::{SUPPORTED_LANGUAGES, native_name};
use crate::domain::{CategoryView, ConsentAction, CurrentConsent, IdentifierView};
use crate::enhance::ConsentIsland;
use crate::i18n::ui_text;
use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The forms a choice is made with (banner, settings button and dialog, or on `/preferences`
/// the center), rendered on the server, and the island that enhances them.
#[component]
pub fn ConsentForms(children: Children) -> impl IntoView {
    view! {
        <div class="zc-consent-ui">
            {children()}
            <ConsentIsland/>
        </div>
    }
}

/// A plain GET form, so switching language works without JavaScript too.
#[component]
pub fn LanguageSwitcher(current: String, id: String) -> impl IntoView {
    let ui = ui_text(&current);
    // Embedded in another site the loader handles the switch itself; on the service's pages
    // the form reloads the page it is on.
    let action = if use_context::<ServiceBase>().is_some() {
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

/// The four collection details' labels (Korea, PIPA Art. 15(2)), in the banner's language.
#[derive(Debug, Clone)]
pub struct DetailLabels {
    pub purpose: String,
    pub items: String,
    pub retention: String,
    pub refusal: String,
}

/// The first layer's collection details: every optional category's purpose, the items
/// collected, how long they are kept and the right to refuse, shown before any click. With
/// `save` (opt-in), each category has its own unticked checkbox and the form records a custom
/// choice from the banner; without (opt-out, notice: the categories are on already), the
/// details are listed and each category can be refused in the preference center.
#[component]
pub fn CollectionDetails(
    version: String,
    language: String,
    categories: Vec<CategoryView>,
    labels: DetailLabels,
    save: Option<String>,
) -> impl IntoView {
    let choosable = save.is_some();
    let items = categories
        .into_iter()
        .filter(|category| !category.required)
        .map(|category| {
            let input_id = format!("zc-banner-category-{}", category.id);
            let details_id = format!("{input_id}-details");
            let heading = if choosable {
                Either::Left(view! {
                    <input
                        type="checkbox"
                        id=input_id.clone()
                        name=format!("categories[{}]", category.id)
                        value="on"
                        aria-describedby=details_id.clone()
                    />
                    <label for=input_id class="zc-category__title">{category.title}</label>
                })
            } else {
                Either::Right(view! { <span class="zc-category__title">{category.title}</span> })
            };
            let rows = [
                (labels.purpose.clone(), Some(category.description)),
                (labels.items.clone(), category.items),
                (labels.retention.clone(), category.retention),
                (labels.refusal.clone(), category.refusal),
            ]
            .into_iter()
            .filter_map(|(label, text)| text.map(|text| view! { <dt>{label}</dt><dd>{text}</dd> }))
            .collect_view();
            view! {
                <li class="zc-category" data-category=category.id.clone()>
                    {heading}
                    <dl id=details_id class="zc-details">{rows}</dl>
                </li>
            }
        })
        .collect_view();
    let list = view! { <ul class="zc-categories zc-banner__details" data-testid="collection-details">{items}</ul> };
    match save {
        Some(save) => Either::Left(view! {
            <RecordForm>
                <input type="hidden" name="policy_version" value=version/>
                <input type="hidden" name="language" value=language/>
                <input type="hidden" name="action" value="custom"/>
                {list}
                <div class="zc-banner__actions">
                    <button type="submit" class="zc-btn zc-btn--choice" data-action="save">{save}</button>
                </div>
            </RecordForm>
        }),
        None => Either::Right(list),
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
/// visitor's current state (a category never decided shows what the visitor's regime grants
/// it now, `granted`: unticked under opt-in, ticked where it is on until refused), submitted
/// as a custom choice.
/// Only the preference center shows it, so it always says it was sent from there.
#[component]
pub fn CategoryForm(
    version: String,
    language: String,
    categories: Vec<CategoryView>,
    current: Option<CurrentConsent>,
    granted: std::collections::BTreeMap<String, bool>,
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
                .or_else(|| granted.get(&category.id).copied())
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
