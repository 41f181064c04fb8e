//! What more than one console page shows: the words for an action, a server-drawn chart and a
//! data table.

use super::model::Chart;
use crate::domain::ConsentAction;
use leptos::prelude::*;

/// The words for an action, as the console shows them.
pub fn action_label(action: &str) -> &'static str {
    match ConsentAction::parse(action) {
        Some(ConsentAction::AcceptAll) => "Accept all",
        Some(ConsentAction::RejectAll) => "Reject all",
        Some(ConsentAction::Custom) => "Custom",
        Some(ConsentAction::Withdraw) => "Withdraw",
        Some(ConsentAction::Gpc) => "GPC",
        Some(ConsentAction::Acknowledge) => "Acknowledged",
        None => "Other",
    }
}

/// The chart with this element id, if the page has one.
pub(super) fn chart_by_id(charts: &[Chart], id: &str) -> Option<Chart> {
    charts.iter().find(|chart| chart.id == id).cloned()
}

/// A chart drawn on the server, for the eye: screen readers are sent to the table under it,
/// which has the same numbers.
#[component]
pub(super) fn ChartFigure(chart: Chart) -> impl IntoView {
    view! {
        <div
            class="zc-chart"
            id=chart.id
            role="img"
            aria-label=format!("{} (the table below has the numbers)", chart.title)
            inner_html=chart.svg
        ></div>
    }
}

/// A table with a header row of `columns` and the given body rows, scrolling sideways when
/// narrow.
pub(super) fn data_table(
    id: impl Into<String>,
    columns: &[&'static str],
    rows: impl IntoView,
) -> impl IntoView {
    let id: String = id.into();
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
