//! The service's own pages.

use crate::EXTERNAL_TRANSMISSION_PATH;
use crate::domain::{IdentifierKind, PolicyView, TransmissionView};
use crate::i18n::{UiText, ui_text};
use crate::widgets::{
    LanguageSwitcher, PagePath, WithStatus, external_transmission_href, preferences_href,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="ZecCloud Consent"/>
        // This page and the notice are written in English only; mark them so screen readers
        // switch voice when the rest of the page is in another language.
        <article class="zc-prose" lang="en">
            <h1>"ZecCloud Consent"</h1>
            <p>
                "This service keeps the cookie and identifier promises of ZecCloud's "
                <a href="/notice">"Data Protection Notice"</a>
                " on every ZecCloud page. It asks you once, records your choice against the version of the notice you were shown, and lets every ZecCloud site respect it."
            </p>
            <h2>"What it does"</h2>
            <ul>
                <li>"Shows the consent banner: Accept all and Reject all carry equal weight, and Customize lets you choose each purpose."</li>
                <li>"Records every decision as proof of consent, tied to the policy version shown."</li>
                <li>"Issues the client identifier (SSAID) used for risk control and abuse detection."</li>
                <li>"Lets analytics run only when you have agreed to it."</li>
            </ul>
            <p>"Everything works with JavaScript switched off: each button is an ordinary form."</p>
        </article>
    }
    .into_any()
}

/// The line of §06 after which the notice promises its identifier table.
const IDENTIFIER_TABLE_AFTER: &str = "We currently use the following technical identifiers:";

/// The notice as published, with its numbered sections as headings and §06's identifier table
/// rendered from the policy's registry.
#[component]
pub fn NoticePage() -> impl IntoView {
    const NOTICE: &str = include_str!("../content/notice-en.txt");
    view! {
        <Title text="Data Protection Notice - ZecCloud"/>
        <article class="zc-prose zc-notice" lang="en">
            {notice_blocks(NOTICE)
                .into_iter()
                .map(|block| {
                    let table = matches!(block, Block::Paragraph(IDENTIFIER_TABLE_AFTER))
                        .then(|| view! { <IdentifierTable/> });
                    view! {
                        {render_block(block)}
                        {table}
                    }
                })
                .collect_view()}
        </article>
    }
    .into_any()
}

/// Notice §06: every identifier of the current policy, by category.
#[component]
fn IdentifierTable() -> impl IntoView {
    view! {
        <WithStatus let:status>{identifier_table(status.policy)}</WithStatus>
    }
}

fn identifier_table(policy: PolicyView) -> impl IntoView {
    let ui = ui_text(&policy.language);
    let rows = policy
        .categories
        .into_iter()
        .flat_map(|category| {
            let title = category.title;
            category.identifiers.into_iter().map(move |identifier| {
                let name = identifier.name.clone();
                view! {
                    <tr data-identifier=name>
                        <td><code>{identifier.name}</code></td>
                        <td>{title.clone()}</td>
                        <td>
                            {match identifier.kind {
                                IdentifierKind::Cookie => ui.kind_cookie,
                                IdentifierKind::LocalStorage => ui.kind_local_storage,
                                IdentifierKind::SessionStorage => ui.kind_session_storage,
                            }}
                        </td>
                        <td>{identifier.provider}</td>
                        <td>{identifier.purpose}</td>
                        <td>{identifier.duration}</td>
                        <td>{identifier.domain}</td>
                        <td>{if identifier.third_party_access { ui.yes } else { ui.no }}</td>
                    </tr>
                }
            })
        })
        .collect_view();
    let transmissions_link = view! {
        // The table is in the visitor's language, like the link after it.
        <p lang=policy.language.clone()>
            <a href=external_transmission_href(&policy.language)>{ui.external_transmission}</a>
        </p>
    };
    view! {
        <div
            class="zc-table-wrap"
            id="identifiers"
            tabindex="0"
            role="region"
            aria-labelledby="zc-identifiers-caption"
            lang=policy.language.clone()
        >
            <table class="zc-table">
                <caption id="zc-identifiers-caption">
                    {ui.table_caption.replace("{version}", &policy.version)}
                </caption>
                <thead>
                    <tr>
                        <th scope="col">{ui.col_name}</th>
                        <th scope="col">{ui.col_category}</th>
                        <th scope="col">{ui.col_type}</th>
                        <th scope="col">{ui.col_provider}</th>
                        <th scope="col">{ui.col_purpose}</th>
                        <th scope="col">{ui.col_duration}</th>
                        <th scope="col">{ui.col_domain}</th>
                        <th scope="col">{ui.col_third_party}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {transmissions_link}
    }
}

/// `/external-transmission`: what ZecCloud's sites make the visitor's browser send to other
/// destinations, as Japan's Telecommunications Business Act asks to publish (Art. 27-12): for
/// each transmission of the current policy's registry, a table with what is sent, the
/// recipient and the host, the purpose, how to refuse, and the category that allows it. In
/// Japanese unless the visitor chose another language (`app::page_default_language`).
#[component]
pub fn ExternalTransmissionPage() -> impl IntoView {
    view! {
        <WithStatus let:status>
            {
                // The language switcher reloads this page.
                provide_context(PagePath(EXTERNAL_TRANSMISSION_PATH.to_owned()));
                transmission_page(status.policy)
            }
        </WithStatus>
    }
    .into_any()
}

/// One transmission with what the page says about where it comes from.
struct Listed {
    identifier: String,
    category: String,
    required: bool,
    transmission: TransmissionView,
}

/// Every transmission of the registry, in the order the policy lists categories and
/// identifiers.
fn transmissions_of(policy: &PolicyView) -> Vec<Listed> {
    policy
        .categories
        .iter()
        .flat_map(|category| {
            category.identifiers.iter().flat_map(move |identifier| {
                identifier
                    .transmissions
                    .iter()
                    .map(move |transmission| Listed {
                        identifier: identifier.name.clone(),
                        category: category.title.clone(),
                        required: category.required,
                        transmission: transmission.clone(),
                    })
            })
        })
        .collect()
}

fn transmission_page(policy: PolicyView) -> AnyView {
    let ui = ui_text(&policy.language);
    let language = policy.language.clone();
    let listed = transmissions_of(&policy);
    let tables = if listed.is_empty() {
        view! { <p data-testid="no-transmissions">{ui.transmission_none}</p> }.into_any()
    } else {
        listed
            .into_iter()
            .map(|listed| transmission_table(ui, listed))
            .collect_view()
            .into_any()
    };
    view! {
        <Title text=format!("{} - ZecCloud", ui.transmission_title)/>
        <article class="zc-prose zc-transmissions" lang=language.clone()>
            <h1>{ui.transmission_title}</h1>
            <LanguageSwitcher current=language.clone() id="zc-transmission-lang".to_owned()/>
            <p>{ui.transmission_intro}</p>
            <p>
                {ui.transmission_choices} " "
                <a href=preferences_href(&language) data-opens-dialog="">{ui.privacy_settings}</a>
            </p>
            <p>{ui.transmission_version.replace("{version}", &policy.version)}</p>
            {tables}
        </article>
    }
    .into_any()
}

/// One transmission as a table of its own: a row per thing the law asks to publish.
fn transmission_table(ui: &'static UiText, listed: Listed) -> AnyView {
    let Listed {
        identifier,
        category,
        required,
        transmission,
    } = listed;
    let host = transmission.destination.clone();
    let caption = ui
        .transmission_caption
        .replace("{name}", &identifier)
        .replace("{destination}", &transmission.destination);
    let category = if required {
        ui.transmission_necessary
    } else {
        ui.transmission_optional
    }
    .replace("{category}", &category);
    view! {
        <table
            class="zc-table zc-transmission"
            data-transmission=identifier
            data-destination=host
        >
            <caption>{caption}</caption>
            <tbody>
                <tr>
                    <th scope="row">{ui.transmission_items}</th>
                    <td>{transmission.items}</td>
                </tr>
                <tr>
                    <th scope="row">{ui.transmission_recipient}</th>
                    <td>{transmission.recipient}</td>
                </tr>
                <tr>
                    <th scope="row">{ui.transmission_destination}</th>
                    <td><code>{transmission.destination}</code></td>
                </tr>
                <tr>
                    <th scope="row">{ui.transmission_purpose}</th>
                    <td>{transmission.purpose}</td>
                </tr>
                <tr>
                    <th scope="row">{ui.transmission_refusal}</th>
                    <td>{transmission.refusal}</td>
                </tr>
                <tr>
                    <th scope="row">{ui.transmission_category}</th>
                    <td data-optional=(!required).to_string()>{category}</td>
                </tr>
            </tbody>
        </table>
    }
    .into_any()
}

#[derive(Debug, PartialEq, Eq)]
enum Block<'a> {
    Heading(&'a str),
    Item(&'a str),
    Paragraph(&'a str),
}

/// Splits the plain-text notice into blocks: a line holding only a section number ("01")
/// makes the next line a heading, bulleted lines are list items, the rest are paragraphs.
fn notice_blocks(text: &str) -> Vec<Block<'_>> {
    let mut blocks = Vec::new();
    let mut next_is_heading = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.len() == 2 && line.chars().all(|c| c.is_ascii_digit()) {
            next_is_heading = true;
        } else if next_is_heading {
            blocks.push(Block::Heading(line));
            next_is_heading = false;
        } else if let Some(item) = line.strip_prefix('•') {
            blocks.push(Block::Item(item.trim()));
        } else {
            blocks.push(Block::Paragraph(line));
        }
    }
    blocks
}

fn render_block(block: Block<'static>) -> AnyView {
    match block {
        Block::Heading(text) => view! { <h2>{text}</h2> }.into_any(),
        Block::Item(text) => view! { <p class="zc-notice__item">{text}</p> }.into_any(),
        Block::Paragraph(text) => view! { <p>{text}</p> }.into_any(),
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found - ZecCloud Consent"/>
        <article class="zc-prose">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the start page"</a></p>
        </article>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_has_the_line_the_identifier_table_follows() {
        let blocks = notice_blocks(include_str!("../content/notice-en.txt"));
        assert!(blocks.contains(&Block::Paragraph(IDENTIFIER_TABLE_AFTER)));
    }

    /// A policy may list no transmission at all: the page says so rather than showing nothing.
    #[cfg(feature = "ssr")]
    #[test]
    fn a_registry_without_transmissions_says_so() {
        let policy = crate::domain::policy::tests::sample_policy().view("en", None);
        let html = crate::render_html(move || transmission_page(policy));
        assert!(html.contains(r#"data-testid="no-transmissions""#), "{html}");
        assert!(html.contains(ui_text("en").transmission_none));
        assert!(!html.contains("<table"), "{html}");
    }

    #[test]
    fn every_transmission_is_listed_once_in_the_policy_order() {
        let mut policy = crate::domain::policy::tests::sample_policy();
        let sent = |host: &str| {
            let text = |t: &str| std::collections::BTreeMap::from([("en".into(), t.into())]);
            crate::domain::Transmission {
                items: text("id"),
                recipient: text("ZecCloud"),
                destination: host.into(),
                purpose: text("why"),
                refusal: text("how"),
            }
        };
        policy.categories[2].identifiers[0].transmissions =
            vec![sent("a.example"), sent("b.example")];
        policy.categories[0].identifiers[0].transmissions = vec![sent("c.example")];
        let listed = transmissions_of(&policy.view("en", None));
        let seen: Vec<_> = listed
            .iter()
            .map(|l| {
                (
                    l.identifier.as_str(),
                    l.transmission.destination.as_str(),
                    l.required,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("necessary_cookie*", "c.example", true),
                ("analytics_cookie*", "a.example", false),
                ("analytics_cookie*", "b.example", false),
            ]
        );
    }

    #[test]
    fn notice_sections_become_headings() {
        let blocks =
            notice_blocks("Intro\n\n01\n\nData Collection Scope\n\n  • Account Info: x\nText");
        assert_eq!(
            blocks,
            [
                Block::Paragraph("Intro"),
                Block::Heading("Data Collection Scope"),
                Block::Item("Account Info: x"),
                Block::Paragraph("Text"),
            ]
        );
    }
}
