//! The consent log (docs/consent-log.md): its name and keys, the latest signed head with its
//! checkpoint, the heads a witness could have seen, and the last check of the whole log, with
//! a button that runs one now.

use super::LOG_VERIFY_PATH;
use super::model::{LogHeadRow, LogKeyRow, LogPage, LogVerificationRow};
use super::parts::data_table;
use leptos::prelude::*;

/// The command that checks the whole log from a shell.
const VERIFY_COMMAND: &str = "server log verify";

#[component]
pub(super) fn LogView(page: LogPage) -> impl IntoView {
    let LogPage {
        origin,
        keys,
        latest,
        heads,
        heads_unreadable,
        head_interval_secs,
        verification,
    } = page;
    let shown = heads.len();
    let rows = heads
        .into_iter()
        .map(|head| {
            view! {
                <tr data-tree-size=head.tree_size.to_string()>
                    <th scope="row">{head.tree_size}</th>
                    <td><code>{head.root_hash}</code></td>
                    <td>{head.timestamp}</td>
                    <td><code>{head.key_id}</code></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p>
            "Every decision, policy publication and deletion is a leaf of an append-only Merkle tree; "
            {format!("a signed head of the tree is made every {head_interval_secs} s while it grows. ")}
            "Whoever keeps a head can later check that nothing logged before it was changed or dropped."
        </p>
        <section class="zc-console__section" aria-labelledby="zc-log-identity">
            <h2 id="zc-log-identity">"Log name and keys"</h2>
            <dl class="zc-console__fields">
                <dt>"Log name (origin)"</dt>
                <dd><code id="zc-log-origin">{origin}</code></dd>
            </dl>
            <KeysTable keys/>
        </section>
        <section class="zc-console__section" aria-labelledby="zc-log-latest">
            <h2 id="zc-log-latest">"Latest signed head"</h2>
            <LatestHead latest/>
        </section>
        <section class="zc-console__section" aria-labelledby="zc-log-heads">
            <h2 id="zc-log-heads">"History of heads"</h2>
            {match heads_unreadable {
                Some(why) => view! { <p class="zc-error" role="alert">{why}</p> }.into_any(),
                None => view! {
                    <p>
                        {format!("The {shown} latest heads, latest first: the history a witness could have seen.")}
                    </p>
                }
                .into_any(),
            }}
            {data_table("table-log-heads", &["Tree size", "Root hash", "Signed at (UTC)", "Key id"], rows)}
        </section>
        <section class="zc-console__section" aria-labelledby="zc-log-verification">
            <h2 id="zc-log-verification">"Verification"</h2>
            <Verification verification/>
            <form method="post" action=LOG_VERIFY_PATH class="zc-console__form">
                <p>
                    "Recomputes every leaf from the stored records, rebuilds the tree and checks every "
                    "stored head. On a large log this takes a while."
                </p>
                <button type="submit" class="zc-btn zc-btn--choice">"Verify now"</button>
            </form>
        </section>
    }
}

#[component]
fn KeysTable(keys: Vec<LogKeyRow>) -> impl IntoView {
    let rows = keys
        .into_iter()
        .map(|key| {
            let state = if key.current { "current" } else { "retired" };
            view! {
                <tr data-key-state=state>
                    <th scope="row"><code>{key.key_id}</code></th>
                    <td><code class="zc-console__long">{key.verifier_key}</code></td>
                    <td>{if key.current { "signs new heads" } else { "retired: verifies older heads" }}</td>
                </tr>
            }
        })
        .collect_view();
    data_table("table-log-keys", &["Key id", "Verifier key", "Use"], rows)
}

#[component]
fn LatestHead(latest: Option<LogHeadRow>) -> impl IntoView {
    let Some(head) = latest else {
        return view! { <p>"No head is signed yet."</p> }.into_any();
    };
    view! {
        <dl class="zc-console__fields" id="zc-log-latest-head">
            <dt>"Tree size"</dt>
            <dd data-field="tree-size">{head.tree_size}</dd>
            <dt>"Root hash"</dt>
            <dd data-field="root-hash"><code>{head.root_hash}</code></dd>
            <dt>"Signed at (UTC)"</dt>
            <dd data-field="timestamp">{head.timestamp}</dd>
            <dt>"Key id"</dt>
            <dd data-field="key-id"><code>{head.key_id}</code></dd>
        </dl>
        <p>"The signed checkpoint, as witnesses and Go's sumdb/note read it:"</p>
        <pre class="zc-console__checkpoint" id="zc-log-checkpoint">{head.checkpoint}</pre>
    }
    .into_any()
}

#[component]
fn Verification(verification: Option<LogVerificationRow>) -> impl IntoView {
    let Some(run) = verification else {
        return view! {
            <p id="zc-log-verification-result" data-outcome="never">
                "Never verified. Press “Verify now”, or run "
                <code>{VERIFY_COMMAND}</code>
                " on a machine with the database."
            </p>
        }
        .into_any();
    };
    let outcome = if run.clean { "clean" } else { "problems" };
    let result = if run.clean {
        "Clean: every record matches its leaf and every head verifies.".to_owned()
    } else {
        format!(
            "{} problem(s). The first: {}",
            run.problems,
            run.first_problem.unwrap_or_default()
        )
    };
    view! {
        <dl class="zc-console__fields" id="zc-log-verification-result" data-outcome=outcome>
            <dt>"Ran at (UTC)"</dt>
            <dd data-field="ran-at">{run.ran_at}</dd>
            <dt>"Leaves"</dt>
            <dd data-field="leaves">{run.leaves}</dd>
            <dt>"Heads"</dt>
            <dd data-field="heads">{run.heads}</dd>
            <dt>"Result"</dt>
            <dd data-field="result">{result}</dd>
        </dl>
        <p>
            "The same check runs from a shell with " <code>{VERIFY_COMMAND}</code>
            "; its result is shown here too."
        </p>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::super::model::ConsolePage;
    use super::*;

    fn head(size: u64) -> LogHeadRow {
        LogHeadRow {
            tree_size: size,
            root_hash: format!("root{size}+/="),
            timestamp: "2026-12-08T01:02:03.123Z".to_owned(),
            key_id: "e076be36".to_owned(),
            checkpoint: format!(
                "consent.zeccloud.test/log\n{size}\nroot{size}+/=\ntimestamp 2026-12-08T01:02:03.123Z\n\n\u{2014} consent.zeccloud.test/log c2ln\n"
            ),
        }
    }

    fn page(verification: Option<LogVerificationRow>) -> String {
        let page = LogPage {
            origin: "consent.zeccloud.test/log".to_owned(),
            keys: vec![
                LogKeyRow {
                    key_id: "e076be36".to_owned(),
                    verifier_key: "consent.zeccloud.test/log+e076be36+AQN6".to_owned(),
                    current: true,
                },
                LogKeyRow {
                    key_id: "0badc0de".to_owned(),
                    verifier_key: "consent.zeccloud.test/log+0badc0de+AQAA".to_owned(),
                    current: false,
                },
            ],
            latest: Some(head(18)),
            heads: vec![head(18), head(12)],
            heads_unreadable: None,
            head_interval_secs: 5,
            verification,
        };
        crate::console::console_document(ConsolePage::Log(page)).replace("<!>", "")
    }

    #[test]
    fn the_page_shows_the_keys_the_latest_checkpoint_and_the_heads() {
        let html = page(None);
        assert!(html.contains("<title>Consent log · ZecCloud Consent console</title>"));
        assert!(html.contains(r#"<a href="/admin/log" aria-current="page">Consent log</a>"#));
        assert!(html.contains("consent.zeccloud.test/log+e076be36+AQN6"));
        assert!(html.contains(r#"<tr data-key-state="retired">"#));
        // The whole note, line breaks and all, in one <pre>.
        assert!(
            html.contains(
                "<pre id=\"zc-log-checkpoint\" class=\"zc-console__checkpoint\">consent.zeccloud.test/log\n18\nroot18+/=\ntimestamp"
            ),
            "{html}"
        );
        assert_eq!(html.matches("<tr data-tree-size=").count(), 2);
        assert!(html.contains(r#"<dd data-field="tree-size">18</dd>"#));
        assert!(!html.contains("<script"), "the console sends no script");
    }

    #[test]
    fn a_log_never_verified_names_the_command_and_offers_verify_now() {
        let html = page(None);
        assert!(html.contains(r#"data-outcome="never""#));
        assert!(html.contains("<code>server log verify</code>"));
        assert!(html.contains(r#"<form method="post" action="/admin/log/verify""#));
        assert!(html.contains("Verify now"));
    }

    #[test]
    fn the_last_verification_is_clean_or_names_its_first_problem() {
        let clean = page(Some(LogVerificationRow {
            ran_at: "2026-12-08 01:02:03".to_owned(),
            leaves: 18,
            heads: 4,
            clean: true,
            problems: 0,
            first_problem: None,
        }));
        assert!(clean.contains(r#"data-outcome="clean""#));
        assert!(clean.contains(r#"<dd data-field="leaves">18</dd>"#));
        assert!(clean.contains("Clean: every record matches its leaf"));
        let broken = page(Some(LogVerificationRow {
            ran_at: "2026-12-08 01:02:03".to_owned(),
            leaves: 18,
            heads: 4,
            clean: false,
            problems: 3,
            first_problem: Some("leaf 7: the record was altered".to_owned()),
        }));
        assert!(broken.contains(r#"data-outcome="problems""#));
        assert!(broken.contains("3 problem(s). The first: leaf 7: the record was altered"));
    }
}
