//! The console's pages. Each is a function of its [`ConsolePage`]: the same data renders the
//! same markup on the server and in the browser that hydrates it.

use super::{
    CONSOLE_PATH, ConsolePage, EXPORT_PATH, Overview, PAGE_DATA_ID, PROOF_PATH, ProofEvent,
    ProofOutcome, SIGN_IN_PATH, SIGN_OUT_PATH, page_data_json,
};
use crate::SITE_NAME;
use crate::domain::ConsentAction;
use leptos::prelude::*;

/// The document around a console page, with the page's data for hydration.
pub fn console_shell(options: LeptosOptions, page: ConsolePage) -> impl IntoView {
    let data = page_data_json(&page);
    let title = format!("{} · ZecCloud Consent console", page.title());
    view! {
        <!DOCTYPE html>
        <html lang="en" dir="ltr">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="robots" content="noindex"/>
                <title>{title}</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href=format!("/pkg/{SITE_NAME}.css")/>
                // Data, not a script: browsers never run this type, so the CSP has no say.
                <script type="application/json" id=PAGE_DATA_ID inner_html=data></script>
                <HydrationScripts options/>
            </head>
            <body>
                <ConsoleApp page/>
            </body>
        </html>
    }
}

#[component]
pub fn ConsoleApp(page: ConsolePage) -> impl IntoView {
    // Effects run only in the browser: tests can tell a hydrated console apart.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let title = page.title();
    let signed_in = !matches!(page, ConsolePage::SignIn { .. });
    let body = match page {
        ConsolePage::SignIn { error } => view! { <SignIn error/> }.into_any(),
        ConsolePage::Overview { days, overview } => {
            view! { <OverviewPage days overview/> }.into_any()
        }
        ConsolePage::Proof { query, outcome } => view! { <ProofPage query outcome/> }.into_any(),
        ConsolePage::Export { from, to } => view! { <ExportPage from to/> }.into_any(),
    };
    view! {
        <div id="zc-console" class="zc-console" data-hydrated=move || hydrated.get().to_string()>
            <header class="zc-header">
                <a class="zc-brand" href=CONSOLE_PATH>"ZecCloud Consent · console"</a>
                {signed_in.then(|| view! { <ConsoleNav current=title/> })}
            </header>
            <main class="zc-main zc-console__main">
                <h1>{title}</h1>
                {body}
            </main>
        </div>
    }
}

#[component]
fn ConsoleNav(current: &'static str) -> impl IntoView {
    let link = move |href: &'static str, label: &'static str| {
        let here = (label == current).then_some("page");
        view! { <a href=href aria-current=here>{label}</a> }
    };
    view! {
        <nav aria-label="Console">
            {link(CONSOLE_PATH, "Overview")}
            {link(PROOF_PATH, "Proof of consent")}
            {link(EXPORT_PATH, "Export")}
            <form method="post" action=SIGN_OUT_PATH class="zc-console__sign-out">
                <button type="submit" class="zc-btn zc-btn--secondary zc-btn--small">
                    "Sign out"
                </button>
            </form>
        </nav>
    }
}

#[component]
fn SignIn(error: Option<String>) -> impl IntoView {
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

/// The words for an action, as the console shows them.
pub fn action_label(action: &str) -> &'static str {
    match ConsentAction::parse(action) {
        Some(ConsentAction::AcceptAll) => "Accept all",
        Some(ConsentAction::RejectAll) => "Reject all",
        Some(ConsentAction::Custom) => "Custom",
        Some(ConsentAction::Withdraw) => "Withdraw",
        Some(ConsentAction::Gpc) => "GPC",
        None => "Other",
    }
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |share| format!("{share:.1} %"))
}

fn share_of(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

#[component]
fn OverviewPage(days: u32, overview: Overview) -> impl IntoView {
    let range_link = move |span: u32| {
        let here = (span == days).then_some("page");
        view! { <a href=format!("{CONSOLE_PATH}?days={span}") aria-current=here>{format!("Last {span} days")}</a> }
    };
    let chart = |id: &str| {
        overview
            .charts
            .iter()
            .find(|chart| chart.id == id)
            .map(|chart| {
                view! {
                    <div
                        class="zc-chart"
                        id=chart.id.clone()
                        role="img"
                        aria-label=format!("{} (the table below has the numbers)", chart.title)
                        inner_html=chart.svg.clone()
                    ></div>
                }
            })
    };
    let actions: Vec<String> = ConsentAction::ALL
        .iter()
        .map(|action| action.as_str().to_owned())
        .collect();
    let by_day_rows = overview
        .days
        .iter()
        .enumerate()
        .map(|(position, day)| {
            let counts = actions
                .iter()
                .map(|action| {
                    let count = overview
                        .by_action
                        .get(action)
                        .map_or(0, |per_day| per_day[position]);
                    view! { <td>{count}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{day.clone()}</th>
                    {counts}
                    <td>{overview.decisions_per_day[position]}</td>
                </tr>
            }
        })
        .collect_view();
    let share_rows = overview
        .days
        .iter()
        .enumerate()
        .map(|(position, day)| {
            let shares = overview
                .categories
                .iter()
                .map(|category| {
                    let share = overview
                        .grant_share
                        .get(category)
                        .and_then(|per_day| per_day[position]);
                    view! { <td>{percent(share)}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{day.clone()}</th>
                    {shares}
                </tr>
            }
        })
        .collect_view();
    let action_headers = actions
        .iter()
        .map(|action| view! { <th scope="col">{action_label(action)}</th> })
        .collect_view();
    let category_headers = overview
        .categories
        .iter()
        .map(|category| view! { <th scope="col">{format!("{category} granted")}</th> })
        .collect_view();
    let dimensions = overview
        .dimensions
        .iter()
        .enumerate()
        .map(|(index, table)| {
            let rows = table
                .values
                .iter()
                .map(|value| {
                    let counts = actions
                        .iter()
                        .map(|action| {
                            view! { <td>{value.by_action.get(action).copied().unwrap_or(0)}</td> }
                        })
                        .collect_view();
                    let shares = overview
                        .categories
                        .iter()
                        .map(|category| {
                            let granted = value.granted.get(category).copied().unwrap_or(0);
                            view! { <td>{percent(share_of(granted, value.decisions))}</td> }
                        })
                        .collect_view();
                    view! {
                        <tr>
                            <th scope="row">{value.value.clone()}</th>
                            <td>{value.decisions}</td>
                            {counts}
                            {shares}
                        </tr>
                    }
                })
                .collect_view();
            let empty = table.values.is_empty().then(|| {
                view! { <p>"No decisions in this range."</p> }
            });
            view! {
                <section class="zc-console__section" aria-labelledby=format!("zc-dimension-{index}")>
                    <h2 id=format!("zc-dimension-{index}")>{format!("By {}", table.title.to_lowercase())}</h2>
                    {chart(&format!("chart-dimension-{index}"))}
                    {empty}
                    <div class="zc-table-wrap">
                        <table class="zc-table" data-dimension=table.title.clone()>
                            <thead>
                                <tr>
                                    <th scope="col">{table.title.clone()}</th>
                                    <th scope="col">"Decisions"</th>
                                    {action_headers.clone()}
                                    {category_headers.clone()}
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </section>
            }
        })
        .collect_view();
    view! {
        <nav class="zc-console__ranges" aria-label="Range">
            {range_link(30)}
            {range_link(90)}
        </nav>
        <p class="zc-console__total">
            "Decisions in the range: " <strong data-total=overview.total>{overview.total}</strong>
        </p>
        <section class="zc-console__section" aria-labelledby="zc-by-action">
            <h2 id="zc-by-action">"Decisions per day, by action"</h2>
            {chart("chart-actions")}
            <div class="zc-table-wrap">
                <table class="zc-table" id="table-actions">
                    <thead>
                        <tr>
                            <th scope="col">"Day (UTC)"</th>
                            {action_headers.clone()}
                            <th scope="col">"All"</th>
                        </tr>
                    </thead>
                    <tbody>{by_day_rows}</tbody>
                </table>
            </div>
        </section>
        <section class="zc-console__section" aria-labelledby="zc-grants">
            <h2 id="zc-grants">"Share of decisions granting each category, per day"</h2>
            {chart("chart-grants")}
            <div class="zc-table-wrap">
                <table class="zc-table" id="table-grants">
                    <thead>
                        <tr>
                            <th scope="col">"Day (UTC)"</th>
                            {category_headers.clone()}
                        </tr>
                    </thead>
                    <tbody>{share_rows}</tbody>
                </table>
            </div>
        </section>
        {dimensions}
    }
}

#[component]
fn ProofPage(query: String, outcome: Option<ProofOutcome>) -> impl IntoView {
    let outcome = outcome.map(|outcome| match outcome {
        ProofOutcome::Invalid(message) | ProofOutcome::NotFound(message) => {
            view! { <p class="zc-error" role="status">{message}</p> }.into_any()
        }
        ProofOutcome::Found {
            ssaid,
            matched,
            events,
        } => {
            let count = events.len();
            let events = events
                .into_iter()
                .map(|event| {
                    let is_match = matched.as_deref() == Some(event.id.as_str());
                    view! { <ProofEventView event is_match/> }
                })
                .collect_view();
            view! {
                <p>
                    {format!("SSAID {ssaid}: {count} decision(s), oldest first.")}
                </p>
                <ol class="zc-console__events">{events}</ol>
            }
            .into_any()
        }
    });
    view! {
        <form method="get" action=PROOF_PATH class="zc-console__form" role="search">
            <label for="zc-proof-query">"Consent id or SSAID"</label>
            <input id="zc-proof-query" name="q" type="search" value=query required/>
            <button type="submit" class="zc-btn zc-btn--choice">"Find"</button>
        </form>
        {outcome}
    }
}

#[component]
fn ProofEventView(event: ProofEvent, is_match: bool) -> impl IntoView {
    let field = |name: &'static str, value: String| {
        view! {
            <dt>{name}</dt>
            <dd>{value}</dd>
        }
    };
    let categories = event
        .categories
        .iter()
        .map(|(category, granted)| {
            format!(
                "{category}: {}",
                if *granted { "granted" } else { "refused" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let shown = event.shown.clone().map(|policy| {
        let categories = policy
            .categories
            .into_iter()
            .map(|category| {
                view! {
                    <li>
                        <strong>{category.title}</strong>
                        {format!(" ({})", category.id)}
                        <p>{category.description}</p>
                    </li>
                }
            })
            .collect_view();
        view! {
            <details class="zc-console__shown">
                <summary>{format!("Policy {} as shown ({})", policy.version, policy.language)}</summary>
                <h3>{policy.banner.title}</h3>
                <p>{policy.banner.body}</p>
                <ul>{categories}</ul>
            </details>
        }
    });
    view! {
        <li class="zc-console__event" data-event-id=event.id.clone() data-match=is_match.to_string()>
            <dl class="zc-console__fields">
                {field("Consent id", event.id.clone())}
                {field("Decided at (UTC)", event.decided_at)}
                {field("Action", action_label(&event.action).to_owned())}
                {field("Source", event.source)}
                {field("Categories", categories)}
                {field("Policy version", event.policy_version)}
                {field("Policy hash", event.policy_hash)}
                {field("Banner text hash", event.banner_text_hash)}
                {field("Language", event.language)}
                {field("Network prefix", event.ip_prefix.unwrap_or_else(|| "(cleared)".to_owned()))}
                {field("Terminal type", event.terminal_type)}
                {field("Embedding site", event.origin.unwrap_or_else(|| "(own pages)".to_owned()))}
                {field("Honoured", if event.revoked { "no: revoked".to_owned() } else { "yes".to_owned() })}
            </dl>
            {shown}
            <a class="zc-btn zc-btn--secondary zc-btn--small" href=format!("{PROOF_PATH}/{}/receipt", event.id) download>
                "Download signed receipt"
            </a>
        </li>
    }
}

#[component]
fn ExportPage(from: String, to: String) -> impl IntoView {
    view! {
        <p>
            "Every decision made in the range (UTC days, both included), streamed as it is read. "
            "The columns are described in the README."
        </p>
        <form method="get" action=EXPORT_PATH class="zc-console__form">
            <label for="zc-export-from">"From"</label>
            <input id="zc-export-from" name="from" type="date" value=from required/>
            <label for="zc-export-to">"To"</label>
            <input id="zc-export-to" name="to" type="date" value=to required/>
            <fieldset>
                <legend>"Format"</legend>
                <label>
                    <input type="radio" name="format" value="csv" checked/>
                    " CSV"
                </label>
                <label>
                    <input type="radio" name="format" value="jsonl"/>
                    " JSON Lines"
                </label>
            </fieldset>
            <button type="submit" class="zc-btn zc-btn--choice">"Download"</button>
        </form>
    }
}
