//! Undeclared identifiers: the cookies and storage keys that embedding pages hold and no
//! still-valid policy version declares. First the passive findings (what the embed loader
//! reports, sampled, names only): a chart of reports per day and a table per site, name and
//! choice, each with a link to draft its registry entry. The results of active scans are a
//! section of their own, below these.

use super::model::{Chart, IdentifiersPage, ScanPage, ScanRow, ScannedPage, UndeclaredFinding};
use super::parts::{ChartFigure, chart_by_id, data_table};
use super::{IDENTIFIER_DRAFT_PATH, IDENTIFIERS_PATH, SCANS_PATH};
use leptos::prelude::*;

#[component]
pub(super) fn IdentifiersView(page: IdentifiersPage) -> impl IntoView {
    let IdentifiersPage {
        sample_rate,
        days,
        dates,
        reports_per_day,
        findings,
        not_shown,
        charts,
        scans,
    } = page;
    view! {
        <PassiveFindings
            sample_rate
            days
            dates
            reports_per_day
            findings
            not_shown
            chart=chart_by_id(&charts, "chart-undeclared")
        />
        <LastScans scans/>
    }
}

/// The command a scan is kept with, shown where there is none yet.
const SCAN_COMMAND: &str = "server scan https://www.zeccloud.com/ --same-site --record";

/// The stored active scans (`server scan --record`), latest first.
#[component]
fn LastScans(scans: Vec<ScanRow>) -> impl IntoView {
    let empty = scans.is_empty().then(|| {
        view! {
            <p>"No scan is kept yet. Run one from a shell with " <code>{SCAN_COMMAND}</code> "."</p>
        }
    });
    let rows = scans
        .into_iter()
        .map(|scan| {
            let href = format!("{SCANS_PATH}/{}", scan.id);
            let result = if scan.violations == 0 {
                "clean".to_owned()
            } else {
                format!("{} violation(s)", scan.violations)
            };
            view! {
                <tr>
                    <th scope="row">
                        <a href=href>{scan.finished_at}</a>
                    </th>
                    <td>{scan.start_urls}</td>
                    <td>{scan.pages}</td>
                    <td>{result}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="zc-console__section" aria-labelledby="zc-scans">
            <h2 id="zc-scans">"Last scans"</h2>
            <p>
                "What headless Chromium found on ZecCloud pages in three fresh profiles (no choice, after \"Reject all\", after \"Accept all\"), checked against the registry. Each scan lists its findings and drafts the registry entries of what is undeclared."
            </p>
            {empty}
            {data_table("table-scans", &["Finished (UTC)", "Start pages", "Pages", "Result"], rows)}
        </section>
    }
}

/// One stored scan: page by page, its findings; then hints, skipped pages and the draft.
#[component]
pub(super) fn ScanView(page: ScanPage) -> impl IntoView {
    let ScanPage {
        id,
        started_at,
        finished_at,
        registry,
        pages,
        skipped,
        never_seen,
        draft,
    } = page;
    let sections = pages
        .into_iter()
        .enumerate()
        .map(|(index, page)| scanned_page(index, page))
        .collect_view();
    let skipped = (!skipped.is_empty()).then(|| {
        let items = skipped
            .into_iter()
            .map(|(url, why)| view! { <li><code>{url}</code>": "{why}</li> })
            .collect_view();
        view! {
            <h2>"Skipped pages"</h2>
            <ul>{items}</ul>
        }
    });
    let hints = (!never_seen.is_empty()).then(|| {
        view! {
            <p>
                "Declared but not seen on these pages (a hint, not a violation): "
                {never_seen.join(", ")} "."
            </p>
        }
    });
    let draft = if draft.is_empty() {
        view! { <p>"Nothing undeclared: no registry entry to draft."</p> }.into_any()
    } else {
        view! { <pre class="zc-console__draft" id="scan-draft">{draft}</pre> }.into_any()
    };
    view! {
        <p>
            {format!("Scan {id}, from {started_at} to {finished_at} (UTC), against registry {registry}.")}
        </p>
        {sections}
        {skipped}
        <section class="zc-console__section" aria-labelledby="zc-scan-draft">
            <h2 id="zc-scan-draft">"Draft registry entries"</h2>
            {hints}
            {draft}
        </section>
        <p>
            <a href=IDENTIFIERS_PATH>"Back to the undeclared identifiers"</a>
        </p>
    }
}

fn scanned_page(index: usize, page: ScannedPage) -> impl IntoView {
    let ScannedPage {
        url,
        findings,
        unchosen,
    } = page;
    let summary = if findings.is_empty() {
        "clean".to_owned()
    } else {
        format!("{} violation(s)", findings.len())
    };
    let notes = unchosen
        .into_iter()
        .map(|profile| {
            view! {
                <p>
                    {format!("No banner or loader API to choose with: the {profile} profile is an unchosen one.")}
                </p>
            }
        })
        .collect_view();
    let rows = findings
        .into_iter()
        .map(|finding| {
            let draft = finding
                .drafted
                .then(|| view! { <a href="#scan-draft">"Draft"</a> });
            view! {
                <tr>
                    <th scope="row">{finding.kind}</th>
                    <td>
                        <code>{finding.subject}</code>
                    </td>
                    <td>{finding.profiles}</td>
                    <td>{finding.detail}</td>
                    <td>{draft}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="zc-console__section">
            <h2>
                <code>{url}</code>
                {format!(": {summary}")}
            </h2>
            {notes}
            {data_table(format!("table-scan-findings-{index}"), &["Finding", "What", "Profiles", "Seen", "Registry entry"], rows)}
        </section>
    }
}

/// What embedding pages' loaders reported over the last `days` days.
#[component]
fn PassiveFindings(
    sample_rate: f64,
    days: u32,
    dates: Vec<String>,
    reports_per_day: Vec<i64>,
    findings: Vec<UndeclaredFinding>,
    not_shown: usize,
    chart: Option<Chart>,
) -> impl IntoView {
    let sampling = if sample_rate > 0.0 {
        format!(
            "The embed loader reports from {:.2} % of page views, after the visitor's choice is applied: the names (never the values) of the cookies and storage keys it finds that no still-valid policy version declares.",
            sample_rate * 100.0
        )
    } else {
        "Reports are off ([observations] sample_rate = 0): what is listed was reported before."
            .to_owned()
    };
    let empty = findings
        .is_empty()
        .then(|| view! { <p>"Nothing undeclared was reported in these days."</p> });
    let rows = findings.into_iter().map(finding_row).collect_view();
    let more = (not_shown > 0).then(|| {
        view! { <p>{format!("{not_shown} less reported findings are not listed.")}</p> }
    });
    let per_day = dates
        .into_iter()
        .zip(reports_per_day)
        .map(|(day, reports)| {
            view! {
                <tr>
                    <th scope="row">{day}</th>
                    <td>{reports}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="zc-console__section" aria-labelledby="zc-passive">
            <h2 id="zc-passive">{format!("Reported by the embed loader, last {days} days")}</h2>
            <p>{sampling}</p>
            {chart.map(|chart| view! { <ChartFigure chart/> })}
            {empty}
            {data_table(
                "table-undeclared",
                &["Site", "Kind", "Name", "Choice in force", "Reports", "First seen (UTC)", "Last seen (UTC)", "Registry entry"],
                rows,
            )}
            {more}
            <details>
                <summary>"Reports per day"</summary>
                {data_table("table-undeclared-days", &["Day (UTC)", "Names reported"], per_day)}
            </details>
        </section>
    }
}

fn finding_row(finding: UndeclaredFinding) -> impl IntoView {
    let draft = format!(
        "{IDENTIFIER_DRAFT_PATH}?kind={}&name={}",
        query_value(&finding.kind),
        query_value(&finding.name)
    );
    view! {
        <tr>
            <th scope="row">{finding.origin}</th>
            <td>{finding.kind}</td>
            <td>
                <code>{finding.name}</code>
            </td>
            <td>{finding.choice}</td>
            <td>{finding.reports}</td>
            <td>{finding.first_seen}</td>
            <td>{finding.last_seen}</td>
            <td>
                <a href=draft>"Draft"</a>
            </td>
        </tr>
    }
}

/// A registry entry to start from: the policy file's TOML, with what only a person can say
/// left as `TODO`.
#[component]
pub(super) fn IdentifierDraftView(kind: String, name: String, toml: String) -> impl IntoView {
    let what = match kind.as_str() {
        "local_storage" => "localStorage key",
        "session_storage" => "sessionStorage key",
        _ => "cookie",
    };
    view! {
        <p>
            "A registry entry for the " {what} " " <code>{name}</code>
            ": add it under its category in the policy file, fill in each TODO, and publish a new version (material if the identifier needs consent)."
        </p>
        <pre class="zc-console__draft" id="identifier-draft">{toml}</pre>
        <p>
            <a href=IDENTIFIERS_PATH>"Back to the undeclared identifiers"</a>
        </p>
    }
}

/// `raw` as a URL query value: every byte but unreserved characters percent-encoded (names
/// may hold `%`, `&`, `+` or `#`).
fn query_value(raw: &str) -> String {
    raw.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_keep_unreserved_characters_only() {
        assert_eq!(query_value("_pk_id.1.a4f2"), "_pk_id.1.a4f2");
        assert_eq!(query_value("a&b=c#d+e%f"), "a%26b%3Dc%23d%2Be%25f");
    }
}
