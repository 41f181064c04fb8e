//! The overview: the decisions of the last 30 or 90 days, per day and action, the share of them
//! granting each category, and the same split by policy version, embedding site, language,
//! terminal type, jurisdiction and regime. Each chart has a table with its numbers under it.

use super::CONSOLE_PATH;
use super::model::{Chart, DimensionTable, DimensionValue, Overview};
use super::parts::{ChartFigure, action_label, chart_by_id};
use crate::domain::ConsentAction;
use leptos::prelude::*;
use std::collections::BTreeMap;

#[component]
pub(super) fn OverviewPage(days: u32, overview: Overview) -> impl IntoView {
    let Overview {
        days: dates,
        total,
        decisions_per_day,
        by_action,
        grant_share,
        categories,
        dimensions,
        charts,
    } = overview;
    let dimensions = dimensions
        .into_iter()
        .enumerate()
        .map(|(index, table)| {
            let chart = chart_by_id(&charts, &format!("chart-dimension-{index}"));
            view! { <DimensionSection index table categories=categories.clone() chart/> }
        })
        .collect_view();
    view! {
        <RangeNav days/>
        <p class="zc-console__total">
            "Decisions in the range: " <strong data-total=total>{total}</strong>
        </p>
        <ActionsPerDay
            dates=dates.clone()
            by_action
            decisions_per_day
            chart=chart_by_id(&charts, "chart-actions")
        />
        <GrantsPerDay dates grant_share categories chart=chart_by_id(&charts, "chart-grants")/>
        {dimensions}
    }
}

/// The ranges offered, the one shown marked as the current one.
#[component]
fn RangeNav(days: u32) -> impl IntoView {
    let range_link = move |span: u32| {
        let here = (span == days).then_some("page");
        view! { <a href=format!("{CONSOLE_PATH}?days={span}") aria-current=here>{format!("Last {span} days")}</a> }
    };
    view! {
        <nav class="zc-console__ranges" aria-label="Range">
            {range_link(30)}
            {range_link(90)}
        </nav>
    }
}

/// Decisions per day: one column per action, and one for all of them.
#[component]
fn ActionsPerDay(
    dates: Vec<String>,
    by_action: BTreeMap<String, Vec<i64>>,
    decisions_per_day: Vec<i64>,
    chart: Option<Chart>,
) -> impl IntoView {
    let rows = dates
        .into_iter()
        .enumerate()
        .map(|(position, day)| {
            let counts = actions()
                .map(|action| {
                    let count = by_action.get(action).map_or(0, |per_day| per_day[position]);
                    view! { <td>{count}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{day}</th>
                    {counts}
                    <td>{decisions_per_day[position]}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="zc-console__section" aria-labelledby="zc-by-action">
            <h2 id="zc-by-action">"Decisions per day, by action"</h2>
            {chart.map(|chart| view! { <ChartFigure chart/> })}
            <div class="zc-table-wrap">
                <table class="zc-table" id="table-actions">
                    <thead>
                        <tr>
                            <th scope="col">"Day (UTC)"</th>
                            {action_headers()}
                            <th scope="col">"All"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// Per day, the share of its decisions granting each category.
#[component]
fn GrantsPerDay(
    dates: Vec<String>,
    grant_share: BTreeMap<String, Vec<Option<f64>>>,
    categories: Vec<String>,
    chart: Option<Chart>,
) -> impl IntoView {
    let rows = dates
        .into_iter()
        .enumerate()
        .map(|(position, day)| {
            let shares = categories
                .iter()
                .map(|category| {
                    let share = grant_share
                        .get(category)
                        .and_then(|per_day| per_day[position]);
                    view! { <td>{percent(share)}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{day}</th>
                    {shares}
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="zc-console__section" aria-labelledby="zc-grants">
            <h2 id="zc-grants">"Share of decisions granting each category, per day"</h2>
            {chart.map(|chart| view! { <ChartFigure chart/> })}
            <div class="zc-table-wrap">
                <table class="zc-table" id="table-grants">
                    <thead>
                        <tr>
                            <th scope="col">"Day (UTC)"</th>
                            {category_headers(&categories)}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// The range's decisions split by one property (`index` numbers the split on the page): per
/// value, how many, by action, and the share granting each category.
#[component]
fn DimensionSection(
    index: usize,
    table: DimensionTable,
    categories: Vec<String>,
    chart: Option<Chart>,
) -> impl IntoView {
    let DimensionTable { title, values } = table;
    let heading = format!("By {}", title.to_lowercase());
    let dimension = title.clone();
    let empty = values.is_empty().then(|| {
        view! { <p>"No decisions in this range."</p> }
    });
    let rows = values
        .into_iter()
        .map(|value| dimension_row(value, &categories))
        .collect_view();
    view! {
        <section class="zc-console__section" aria-labelledby=format!("zc-dimension-{index}")>
            <h2 id=format!("zc-dimension-{index}")>{heading}</h2>
            {chart.map(|chart| view! { <ChartFigure chart/> })}
            {empty}
            <div class="zc-table-wrap">
                <table class="zc-table" data-dimension=dimension>
                    <thead>
                        <tr>
                            <th scope="col">{title}</th>
                            <th scope="col">"Decisions"</th>
                            {action_headers()}
                            {category_headers(&categories)}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

fn dimension_row(value: DimensionValue, categories: &[String]) -> impl IntoView + use<> {
    let counts = actions()
        .map(|action| view! { <td>{value.by_action.get(action).copied().unwrap_or(0)}</td> })
        .collect_view();
    let shares = categories
        .iter()
        .map(|category| {
            let granted = value.granted.get(category).copied().unwrap_or(0);
            view! { <td>{percent(share_of(granted, value.decisions))}</td> }
        })
        .collect_view();
    view! {
        <tr>
            <th scope="row">{value.value}</th>
            <td>{value.decisions}</td>
            {counts}
            {shares}
        </tr>
    }
}

/// Every action, in the order the tables list them.
fn actions() -> impl Iterator<Item = &'static str> {
    ConsentAction::ALL.iter().map(|action| action.as_str())
}

fn action_headers() -> impl IntoView {
    actions()
        .map(|action| view! { <th scope="col">{action_label(action)}</th> })
        .collect_view()
}

fn category_headers(categories: &[String]) -> impl IntoView + use<> {
    categories
        .iter()
        .map(|category| view! { <th scope="col">{format!("{category} granted")}</th> })
        .collect_view()
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |share| format!("{share:.1} %"))
}

fn share_of(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}
