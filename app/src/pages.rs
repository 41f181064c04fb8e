//! The service's own pages.

use crate::ConsentContext;
use crate::banner::{CategoryForm, ErrorNotice, OneClickChoice};
use crate::consent_api::FROM_PREFERENCES;
use crate::domain::{ConsentAction, ConsentStatus, CurrentConsent, PolicyView};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="ZecCloud Consent"/>
        <article class="zc-prose">
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
        <article class="zc-prose zc-notice">
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
}

/// Notice §06: every identifier of the current policy, by category.
#[component]
fn IdentifierTable() -> impl IntoView {
    let ConsentContext { status, .. } = expect_context();
    view! {
        <Suspense>
            {move || {
                status
                    .get()
                    .map(|result| match result {
                        Ok(status) => Either::Left(identifier_table(status.policy)),
                        Err(error) => Either::Right(view! { <ErrorNotice error/> }),
                    })
            }}
        </Suspense>
    }
}

fn identifier_table(policy: PolicyView) -> impl IntoView {
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
                        <td>{identifier.kind.label()}</td>
                        <td>{identifier.provider}</td>
                        <td>{identifier.purpose}</td>
                        <td>{identifier.duration}</td>
                        <td>{identifier.domain}</td>
                        <td>{if identifier.third_party_access { "Yes" } else { "No" }}</td>
                    </tr>
                }
            })
        })
        .collect_view();
    view! {
        <div class="zc-table-wrap" id="identifiers" tabindex="0" role="region" aria-labelledby="zc-identifiers-caption">
            <table class="zc-table">
                <caption id="zc-identifiers-caption">
                    {format!("Cookies and local identifiers (policy version {})", policy.version)}
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Category"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Provider"</th>
                        <th scope="col">"Purpose"</th>
                        <th scope="col">"Duration"</th>
                        <th scope="col">"Domain"</th>
                        <th scope="col">"Third-party access"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The preference center: the standing choice, changing it, withdrawing it, and its receipt.
#[component]
pub fn PreferencesPage() -> impl IntoView {
    let ConsentContext { status, record } = expect_context();
    view! {
        <Title text="Privacy settings - ZecCloud"/>
        <article class="zc-prose zc-preferences">
            <h1>"Privacy settings"</h1>
            <Suspense>
                {move || {
                    status
                        .get()
                        .map(|result| match result {
                            Ok(status) => Either::Left(view! { <PreferenceCenter status record/> }),
                            Err(error) => Either::Right(view! { <ErrorNotice error/> }),
                        })
            }}
            </Suspense>
        </article>
    }
}

#[component]
fn PreferenceCenter(
    status: ConsentStatus,
    record: ServerAction<crate::consent_api::RecordConsent>,
) -> impl IntoView {
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
    view! {
        <section class="zc-current" aria-labelledby="zc-current-title" data-testid="current-choice">
            <h2 id="zc-current-title">"Your current choice"</h2>
            <p role="status" class="zc-saved">{move || saved().then_some("Your choice has been saved.")}</p>
            {move || match current() {
                Some(consent) => Either::Left(current_choice(consent, titles.get_value())),
                None => Either::Right(view! { <p>"You have not made a choice yet."</p> }),
            }}
        </section>
        {failure}
        <section aria-labelledby="zc-change-title">
            <h2 id="zc-change-title">"Change your choice"</h2>
            <p>
                {format!("Policy version {}. ", policy.version)}
                <a href=policy.notice_url.clone()>{text.notice_link.clone()}</a>
                " · "
                <a href="/notice#identifiers">"All cookies and identifiers"</a>
            </p>
            <CategoryForm
                record
                version
                language
                categories=policy.categories
                current=status.current
                always_on=text.always_on
                identifiers_label=text.identifiers
                save=text.save
                from=Some(FROM_PREFERENCES)
            />
        </section>
        <section aria-labelledby="zc-withdraw-title">
            <h2 id="zc-withdraw-title">"Withdraw consent"</h2>
            <p>
                "One click refuses every optional category and removes their cookies and stored data. It does not affect processing that took place before."
            </p>
            <OneClickChoice
                record
                version
                language
                action=ConsentAction::Withdraw
                label="Withdraw consent".to_owned()
                from=Some(FROM_PREFERENCES)
            />
        </section>
    }
}

fn current_choice(consent: CurrentConsent, titles: Vec<(String, String)>) -> impl IntoView {
    let receipt = format!("/api/v1/consent/{}/receipt", consent.event_id);
    let states = titles
        .into_iter()
        .map(|(id, title)| {
            let state = match consent.state(&id) {
                Some(true) => "Allowed",
                Some(false) => "Refused",
                None => "Not decided",
            };
            view! {
                <li data-category=id.clone() data-state=state>
                    <strong>{title}</strong> ": " {state}
                </li>
            }
        })
        .collect_view();
    let how = match consent.action {
        ConsentAction::Gpc => " (from your browser's Global Privacy Control signal)",
        _ => "",
    };
    view! {
        <p>
            {format!(
                "Made on {} under policy version {}{how}.",
                format_utc(consent.decided_at),
                consent.policy_version,
            )}
        </p>
        <ul class="zc-states">{states}</ul>
        <p>
            <a href=receipt download="" data-testid="receipt-link">"Download your consent receipt"</a>
            " (signed JSON: proof of what you chose and when)"
        </p>
    }
}

/// `2026-11-26 13:05 UTC`: the same text on the server and in the browser.
fn format_utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3_600,
        secs % 3_600 / 60
    )
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_in_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_780_000_000), "2026-05-28 20:26 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn the_notice_has_the_line_the_identifier_table_follows() {
        let blocks = notice_blocks(include_str!("../content/notice-en.txt"));
        assert!(blocks.contains(&Block::Paragraph(IDENTIFIER_TABLE_AFTER)));
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
