//! The console's pages. Each is a function of its [`ConsolePage`], rendered on the server only:
//! the console is links, plain forms and server-drawn SVG charts, so no WASM is sent for it.

use super::{
    CONSOLE_PATH, ConsolePage, EXPORT_PATH, Notice, OPERATIONS_PATH, OperationsPage, Overview,
    POLICIES_PATH, POLICY_PREVIEW_PATH, POLICY_PUBLISH_PATH, PROOF_PATH, PoliciesPage, PolicyDiff,
    ProofEvent, ProofOutcome, SIGN_IN_PATH, SIGN_OUT_PATH,
};
use crate::SITE_NAME;
use crate::domain::ConsentAction;
use leptos::prelude::*;

/// A console page as a whole HTML document: no script, not even the visitors' WASM.
pub fn console_document(page: ConsolePage) -> String {
    crate::render_html(|| console_shell(page))
}

fn console_shell(page: ConsolePage) -> impl IntoView {
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
            </head>
            <body>
                <ConsoleApp page/>
            </body>
        </html>
    }
}

#[component]
pub fn ConsoleApp(page: ConsolePage) -> impl IntoView {
    let title = page.title();
    let signed_in = !matches!(page, ConsolePage::SignIn { .. });
    let body = match page {
        ConsolePage::SignIn { error } => view! { <SignIn error/> }.into_any(),
        ConsolePage::Overview { days, overview } => {
            view! { <OverviewPage days overview/> }.into_any()
        }
        ConsolePage::Proof { query, outcome } => view! { <ProofPage query outcome/> }.into_any(),
        ConsolePage::Export { from, to } => view! { <ExportPage from to/> }.into_any(),
        ConsolePage::Policies(page) => view! { <PoliciesView page/> }.into_any(),
        ConsolePage::Operations(page) => view! { <OperationsView page/> }.into_any(),
    };
    view! {
        <div id="zc-console" class="zc-console">
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
            {link(POLICIES_PATH, "Policies")}
            {link(OPERATIONS_PATH, "Operations")}
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

/// A table with a header row of `columns` and the given body rows, scrolling sideways when
/// narrow.
fn data_table(id: &'static str, columns: &[&'static str], rows: impl IntoView) -> impl IntoView {
    let headers = columns
        .iter()
        .map(|column| view! { <th scope="col">{*column}</th> })
        .collect_view();
    view! {
        <div class="zc-table-wrap">
            <table class="zc-table" id=id>
                <thead>
                    <tr>{headers}</tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn notice_view(notice: Option<Notice>) -> impl IntoView {
    notice.map(|notice| {
        if notice.error {
            view! { <p class="zc-error" role="alert">{notice.text}</p> }.into_any()
        } else {
            view! { <p class="zc-console__notice" role="status">{notice.text}</p> }.into_any()
        }
    })
}

#[component]
fn PoliciesView(page: PoliciesPage) -> impl IntoView {
    let PoliciesPage {
        versions,
        diff,
        pending,
        notice,
    } = page;
    let (default_from, default_to) = match versions.len() {
        0 => (String::new(), String::new()),
        1 => (versions[0].version.clone(), versions[0].version.clone()),
        n => (
            versions[n - 2].version.clone(),
            versions[n - 1].version.clone(),
        ),
    };
    let (selected_from, selected_to) = diff
        .as_ref()
        .map(|diff| (diff.from.clone(), diff.to.clone()))
        .unwrap_or((default_from, default_to));
    let rows = versions
        .iter()
        .rev()
        .enumerate()
        .map(|(index, row)| {
            view! {
                <tr>
                    <th scope="row">
                        {if index == 0 { format!("{} (current)", row.version) } else { row.version.clone() }}
                    </th>
                    <td>{row.published_at.clone()}</td>
                    <td><code>{row.hash.clone()}</code></td>
                    <td>{if row.material { "yes" } else { "no" }}</td>
                </tr>
            }
        })
        .collect_view();
    let options = move |selected: String| {
        versions
            .iter()
            .map(|row| {
                let chosen = row.version == selected;
                view! { <option value=row.version.clone() selected=chosen>{row.version.clone()}</option> }
            })
            .collect_view()
    };
    let from_options = options.clone()(selected_from);
    let to_options = options.clone()(selected_to);
    let pending = pending.map(|pending| {
        view! {
            <form method="post" action=POLICY_PUBLISH_PATH class="zc-console__form">
                <p>{format!("Version {} passed every check. Publish it?", pending.version)}</p>
                <input type="hidden" name="source" value=pending.source/>
                <input type="hidden" name="material" value=pending.material.to_string()/>
                <button type="submit" class="zc-btn zc-btn--choice">
                    {if pending.material { "Publish as a material change" } else { "Publish" }}
                </button>
            </form>
        }
    });
    view! {
        {notice_view(notice)}
        <section class="zc-console__section" aria-labelledby="zc-versions">
            <h2 id="zc-versions">"Published versions"</h2>
            {data_table("table-versions", &["Version", "Published (UTC)", "Hash", "Material"], rows)}
        </section>
        <section class="zc-console__section" aria-labelledby="zc-diff">
            <h2 id="zc-diff">"Compare two versions"</h2>
            <form method="get" action=POLICIES_PATH class="zc-console__form zc-console__inline">
                <label for="zc-diff-from">"From"</label>
                <select id="zc-diff-from" name="from">{from_options}</select>
                <label for="zc-diff-to">"To"</label>
                <select id="zc-diff-to" name="to">{to_options}</select>
                <button type="submit" class="zc-btn zc-btn--secondary">"Compare"</button>
            </form>
            {diff.map(|diff| view! { <DiffTable diff/> })}
        </section>
        <section class="zc-console__section" aria-labelledby="zc-publish">
            <h2 id="zc-publish">"Publish a new version"</h2>
            <p>
                "Upload a policy file: it is checked as the command line checks it, and compared "
                "with the current version before anything is published."
            </p>
            <form
                method="post"
                action=POLICY_PREVIEW_PATH
                enctype="multipart/form-data"
                class="zc-console__form"
            >
                <label for="zc-policy-file">"Policy file (TOML)"</label>
                <input id="zc-policy-file" name="file" type="file" accept=".toml,text/plain" required/>
                <label class="zc-console__check">
                    <input type="checkbox" name="material" value="true"/>
                    " A material change: visitors are asked again (notice §11)"
                </label>
                <button type="submit" class="zc-btn zc-btn--choice">"Check and compare"</button>
            </form>
            {pending}
        </section>
    }
}

#[component]
fn DiffTable(diff: PolicyDiff) -> impl IntoView {
    let summary = if diff.changes.is_empty() {
        format!("{} and {} do not differ.", diff.from, diff.to)
    } else {
        format!(
            "{} change(s) from {} to {}.",
            diff.changes.len(),
            diff.from,
            diff.to
        )
    };
    let rows = diff
        .changes
        .into_iter()
        .map(|change| {
            let kind = match (&change.before, &change.after) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            view! {
                <tr data-change=kind>
                    <th scope="row"><code>{change.path}</code></th>
                    <td>{kind}</td>
                    <td>{change.before.unwrap_or_default()}</td>
                    <td>{change.after.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p id="zc-diff-summary" role="status">{summary}</p>
        {data_table("table-diff", &["Field", "Change", "Before", "After"], rows)}
    }
}

#[component]
fn OperationsView(page: OperationsPage) -> impl IntoView {
    let OperationsPage {
        started_at,
        bucket_minutes,
        gate_configured,
        tables,
        charts,
        erasures_configured,
        erasure_counts,
        open_erasures,
    } = page;
    let tables = tables
        .into_iter()
        .map(|table| {
            let chart = charts.iter().find(|chart| chart.id == format!("chart-{}", table.id)).map(|chart| {
                view! {
                    <div
                        class="zc-chart"
                        id=chart.id.clone()
                        role="img"
                        aria-label=format!("{} (the table below has the numbers)", chart.title)
                        inner_html=chart.svg.clone()
                    ></div>
                }
            });
            let headers = table
                .columns
                .iter()
                .map(|column| view! { <th scope="col">{column.clone()}</th> })
                .collect_view();
            let totals = table
                .totals
                .iter()
                .map(|total| view! { <td>{*total}</td> })
                .collect_view();
            let rows = table
                .rows
                .into_iter()
                .map(|(at, values)| {
                    let cells = values.into_iter().map(|value| view! { <td>{value}</td> }).collect_view();
                    view! {
                        <tr>
                            <th scope="row">{at}</th>
                            {cells}
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section class="zc-console__section" aria-labelledby=format!("zc-{}", table.id)>
                    <h2 id=format!("zc-{}", table.id)>{table.title.clone()}</h2>
                    {chart}
                    <div class="zc-table-wrap">
                        <table class="zc-table" id=format!("table-{}", table.id)>
                            <thead>
                                <tr>
                                    <th scope="col">{format!("{bucket_minutes} minutes from (UTC)")}</th>
                                    {headers}
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                            <tfoot>
                                <tr>
                                    <th scope="row">"Since the start"</th>
                                    {totals}
                                </tr>
                            </tfoot>
                        </table>
                    </div>
                </section>
            }
        })
        .collect_view();
    let counts = ["pending", "done", "failed"]
        .iter()
        .map(|state| {
            let count = erasure_counts.get(*state).copied().unwrap_or(0);
            view! {
                <dt>{*state}</dt>
                <dd data-state=*state>{count}</dd>
            }
        })
        .collect_view();
    let open = open_erasures
        .into_iter()
        .map(|job| {
            let state = job.state.clone();
            view! {
                <tr data-state=state>
                    <th scope="row"><code>{job.erasure_id}</code></th>
                    <td>{job.state}</td>
                    <td>{job.attempts}</td>
                    <td>{job.next_attempt_at}</td>
                    <td>{job.last_error.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p>
            {format!(
                "Counted by this instance since {started_at} UTC, in {bucket_minutes}-minute steps over the last 6 hours. Every instance counts its own."
            )}
        </p>
        {(!gate_configured).then(|| view! { <p class="zc-console__notice">"The Matomo gate is not configured here: its counters stay at 0."</p> })}
        {tables}
        <section class="zc-console__section" aria-labelledby="zc-erasures">
            <h2 id="zc-erasures">"Erasures carried through to Matomo"</h2>
            {if erasures_configured {
                view! {
                    <dl class="zc-console__fields">{counts}</dl>
                    {data_table(
                        "table-erasures",
                        &["Erasure", "State", "Attempts", "Next attempt (UTC)", "Last error"],
                        open,
                    )}
                }
                .into_any()
            } else {
                view! { <p>"Matomo's Reporting API is not configured: erasures stop at this service."</p> }
                    .into_any()
            }}
        </section>
    }
}
