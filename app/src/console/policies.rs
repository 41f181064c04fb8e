//! The policies: the published versions, a comparison of two, and publishing a new one after
//! it passed the checks and was compared with the current one.

use super::model::{Notice, PoliciesPage, PolicyDiff};
use super::parts::data_table;
use super::{POLICIES_PATH, POLICY_PREVIEW_PATH, POLICY_PUBLISH_PATH};
use leptos::prelude::*;

#[component]
pub(super) fn PoliciesView(page: PoliciesPage) -> impl IntoView {
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

/// What the last action did: an alert for an error, a status line otherwise.
fn notice_view(notice: Option<Notice>) -> impl IntoView {
    notice.map(|notice| {
        if notice.error {
            view! { <p class="zc-error" role="alert">{notice.text}</p> }.into_any()
        } else {
            view! { <p class="zc-console__notice" role="status">{notice.text}</p> }.into_any()
        }
    })
}
