//! Operations: this instance's Matomo gate and risk-control counters over the last hours, and
//! the erasures carried through to Matomo.

use super::model::{Chart, CounterTable, ErasureJobRow, OperationsPage};
use super::parts::{ChartFigure, chart_by_id, data_table};
use leptos::prelude::*;
use std::collections::BTreeMap;

#[component]
pub(super) fn OperationsView(page: OperationsPage) -> impl IntoView {
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
            let chart = chart_by_id(&charts, &format!("chart-{}", table.id));
            view! { <CounterSection table chart bucket_minutes/> }
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
        <ErasuresSection configured=erasures_configured counts=erasure_counts open=open_erasures/>
    }
}

/// One group of counters: their chart, and a table of each bucket's increments with the
/// totals since the instance started.
#[component]
fn CounterSection(table: CounterTable, chart: Option<Chart>, bucket_minutes: u32) -> impl IntoView {
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
            let cells = values
                .into_iter()
                .map(|value| view! { <td>{value}</td> })
                .collect_view();
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
            {chart.map(|chart| view! { <ChartFigure chart/> })}
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
}

/// The Matomo erasure jobs: how many are in each state, and those not done.
#[component]
fn ErasuresSection(
    configured: bool,
    counts: BTreeMap<String, i64>,
    open: Vec<ErasureJobRow>,
) -> impl IntoView {
    let counts = ["pending", "done", "failed"]
        .iter()
        .map(|state| {
            let count = counts.get(*state).copied().unwrap_or(0);
            view! {
                <dt>{*state}</dt>
                <dd data-state=*state>{count}</dd>
            }
        })
        .collect_view();
    let open = open
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
        <section class="zc-console__section" aria-labelledby="zc-erasures">
            <h2 id="zc-erasures">"Erasures carried through to Matomo"</h2>
            {if configured {
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
