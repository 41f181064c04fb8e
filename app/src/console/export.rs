//! Exporting every decision of a range of days, as CSV or JSON Lines.

use super::EXPORT_PATH;
use leptos::prelude::*;

#[component]
pub(super) fn ExportPage(from: String, to: String) -> impl IntoView {
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
