//! The consent log against someone who holds the database (issue 30): after a decision is
//! altered, removed, back-dated or inserted directly in the database (its triggers dropped
//! first), `server log verify` exits 1 and names it; an erasure and the retention purge leave
//! the log verifiable and the erased record unrecoverable from its leaf; several instances on
//! one database append to one log.

use crate::common::{Engine, TestApp, decision, spawn, spawn_beside};
use crate::on_both_engines;
use serde_json::Value;
use std::time::Duration;

on_both_engines![
    an_untouched_log_verifies,
    an_altered_decision_is_named,
    a_removed_decision_is_named,
    a_back_dated_decision_is_named,
    a_decision_inserted_around_the_log_is_named,
    a_rewritten_leaf_fails_the_signed_heads,
    an_erasure_leaves_the_log_verifiable_and_the_record_unrecoverable,
    instances_on_one_database_append_to_one_log,
    your_data_links_each_decision_to_its_proof,
];

/// A visitor who decided `action`; their decision's id.
async fn decided(app: &TestApp, action: &str) -> String {
    let ssaid = app.new_visitor().await;
    let answer = app
        .post_json(&format!("zc_ssaid={ssaid}"), &decision(action))
        .await;
    assert_eq!(answer.status(), 201);
    let body: Value = answer.json().await.unwrap();
    body["consent"]["event_id"]
        .as_str()
        .unwrap_or_else(|| panic!("the answer names its decision: {body}"))
        .to_owned()
}

/// The latest head, once it covers every leaf stored.
async fn head_covering_every_leaf(app: &TestApp) -> Value {
    let leaves = app.count_rows("log_leaves").await;
    for _ in 0..100 {
        let head: Value = app
            .http
            .get(app.url("/api/v1/log/head"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if head["tree_size"].as_i64() == Some(leaves) {
            return head;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no head covered the {leaves} leaves within 10 s");
}

/// `server log verify`: its exit code and output.
fn verify(app: &TestApp) -> (i32, String) {
    let output = app.run_command(&["log", "verify"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

/// Runs SQL on the database with `consent_events`' triggers out of the way, as someone who
/// holds the database can: on PostgreSQL the table's owner disables them, on SQLite anyone
/// with the file drops them.
async fn behind_the_triggers(app: &TestApp, statement: &str) {
    match app.engine {
        Engine::Postgres => {
            for table in ["consent_events", "log_leaves"] {
                app.execute_raw(&format!("ALTER TABLE {table} DISABLE TRIGGER ALL"))
                    .await
                    .unwrap();
            }
        }
        Engine::Sqlite => {
            for trigger in [
                "consent_events_no_update",
                "consent_events_no_delete",
                "log_leaves_no_update",
                "log_leaves_no_delete",
            ] {
                app.execute_raw(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                    .await
                    .unwrap();
            }
        }
    }
    app.execute_raw(statement).await.unwrap();
}

/// `server log verify` exits 1 and its first problem begins with `first`.
fn assert_first_problem(app: &TestApp, first: &str) -> String {
    let (code, text) = verify(app);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(&format!("FIRST PROBLEM: {first}")), "{text}");
    text
}

/// A log of three decisions, each in a signed head, that verifies; their ids.
async fn three_signed_decisions(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for action in ["accept_all", "reject_all", "accept_all"] {
        ids.push(decided(app, action).await);
    }
    head_covering_every_leaf(app).await;
    let (code, text) = verify(app);
    assert_eq!(code, 0, "{text}");
    ids
}

async fn an_untouched_log_verifies(engine: Engine) {
    let app = spawn(engine).await;
    three_signed_decisions(&app).await;
    let (code, text) = verify(&app);
    assert_eq!(code, 0, "{text}");
    // The embedded policy's publication, then the three decisions.
    assert!(text.starts_with("4 leaves, 4 records, 0 deleted"), "{text}");
    assert!(text.contains("the log is intact"), "{text}");
    // The result is kept for the console.
    assert!(app.count_rows("log_verifications").await >= 2);
}

async fn an_altered_decision_is_named(engine: Engine) {
    let app = spawn(engine).await;
    let ids = three_signed_decisions(&app).await;
    // The refusal turned into a consent to analytics.
    behind_the_triggers(
        &app,
        &format!(
            "UPDATE consent_events SET action = 'accept_all' WHERE id = '{}'",
            ids[1]
        ),
    )
    .await;
    assert_first_problem(&app, &format!("consent {} (leaf 2) was altered", ids[1]));
}

async fn a_removed_decision_is_named(engine: Engine) {
    let app = spawn(engine).await;
    let ids = three_signed_decisions(&app).await;
    behind_the_triggers(
        &app,
        &format!("DELETE FROM consent_events WHERE id = '{}'", ids[0]),
    )
    .await;
    assert_first_problem(
        &app,
        &format!(
            "consent {} (leaf 1) was removed without a logged deletion",
            ids[0]
        ),
    );
}

async fn a_back_dated_decision_is_named(engine: Engine) {
    let app = spawn(engine).await;
    let ids = three_signed_decisions(&app).await;
    // Made to look a day older.
    let earlier = match engine {
        Engine::Postgres => "created_at - INTERVAL '1 day'",
        Engine::Sqlite => "strftime('%Y-%m-%dT%H:%M:%f+00:00', created_at, '-1 day')",
    };
    behind_the_triggers(
        &app,
        &format!(
            "UPDATE consent_events SET created_at = {earlier} WHERE id = '{}'",
            ids[2]
        ),
    )
    .await;
    assert_first_problem(&app, &format!("consent {} (leaf 3) was altered", ids[2]));
}

async fn a_decision_inserted_around_the_log_is_named(engine: Engine) {
    let app = spawn(engine).await;
    let ids = three_signed_decisions(&app).await;
    let forged = uuid::Uuid::now_v7();
    let id = match engine {
        Engine::Postgres => format!("'{forged}'::uuid"),
        Engine::Sqlite => format!("'{forged}'"),
    };
    let columns = "ssaid, policy_version, categories, action, source, created_at, policy_hash, \
                   banner_text_hash, language, ip_prefix, ua_class, origin, made_at, \
                   jurisdiction, regime, country, country_source, log_salt";
    app.execute_raw(&format!(
        "INSERT INTO consent_events (id, {columns}) SELECT {id}, {columns} \
         FROM consent_events WHERE id = '{}'",
        ids[0]
    ))
    .await
    .unwrap();
    assert_first_problem(
        &app,
        &format!("consent {forged} is in no leaf: it was inserted around the log"),
    );
}

/// Whoever alters a decision and rewrites its leaf to match still cannot match the heads the
/// log signed before.
async fn a_rewritten_leaf_fails_the_signed_heads(engine: Engine) {
    let app = spawn(engine).await;
    let ids = three_signed_decisions(&app).await;
    // A leaf committing to other content, its stored hash recomputed to match.
    let mut leaf = app
        .storage
        .log_leaves_from(2, 1)
        .await
        .unwrap()
        .remove(0)
        .leaf;
    leaf.commitment = [0; 32];
    let hash = server::domain::log::leaf::hex(&leaf.hash().0);
    behind_the_triggers(
        &app,
        &format!(
            "UPDATE log_leaves SET commitment = '{}', leaf_hash = '{hash}' WHERE leaf_index = 2",
            "00".repeat(32)
        ),
    )
    .await;
    let text = assert_first_problem(&app, &format!("consent {} (leaf 2) was altered", ids[1]));
    assert!(
        text.contains("leaves does not match the records: a leaf from 1 to"),
        "{text}"
    );
}

async fn an_erasure_leaves_the_log_verifiable_and_the_record_unrecoverable(engine: Engine) {
    let app = spawn(engine).await;
    three_signed_decisions(&app).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    let decided = app.post_json(&cookies, &decision("accept_all")).await;
    assert_eq!(decided.status(), 201);
    let body: Value = decided.json().await.unwrap();
    let event_id = body["consent"]["event_id"].as_str().unwrap().to_owned();
    let receipt: Value = app
        .get(&format!("/api/v1/consent/{event_id}/receipt"), &cookies)
        .await
        .json()
        .await
        .unwrap();
    let entry = receipt["receipt"]["log"].clone();
    assert_eq!(entry["leaf_index"], 4, "{receipt}");
    let erased = app
        .http
        .post(app.url("/api/v1/me/erase"))
        .json(&serde_json::json!({"confirm": true}))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 200);
    head_covering_every_leaf(&app).await;
    let (code, text) = verify(&app);
    assert_eq!(code, 0, "{text}");
    // Four decisions, the publication and the erasure's deletion leaf; one record gone.
    assert!(text.starts_with("6 leaves, 5 records, 1 deleted"), "{text}");
    // The leaf stays; the record and its salt are gone, so the leaf confirms nothing.
    assert_eq!(
        app.texts(&format!(
            "SELECT commitment FROM log_leaves WHERE record_id = '{event_id}'"
        ))
        .await
        .len(),
        1
    );
    assert_eq!(
        app.texts(&format!(
            "SELECT log_salt FROM consent_events WHERE CAST(id AS TEXT) = '{event_id}'"
        ))
        .await,
        Vec::<String>::new()
    );
    assert_eq!(
        app.texts("SELECT kind FROM log_leaves WHERE leaf_index = 5")
            .await,
        ["deletion"]
    );
    // Its inclusion proof still answers: the erased decision was in the log.
    let proof = app
        .http
        .get(app.url(&format!("/api/v1/log/inclusion?event_id={event_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(proof.status(), 200);
}

async fn instances_on_one_database_append_to_one_log(engine: Engine) {
    let first = spawn(engine).await;
    let others = [
        spawn_beside(&first, |_| {}).await,
        spawn_beside(&first, |_| {}).await,
    ];
    let mut decisions = Vec::new();
    for round in 0..3 {
        for app in std::iter::once(&first).chain(others.iter()) {
            let action = if round % 2 == 0 {
                "accept_all"
            } else {
                "reject_all"
            };
            decisions.push(decided(app, action).await);
        }
    }
    let leaves = first.count_rows("log_leaves").await;
    // One publication (the others found it published) and nine decisions, numbered 0 to 9.
    assert_eq!(leaves, 10);
    assert_eq!(
        first
            .texts("SELECT CAST(MAX(leaf_index) AS TEXT) FROM log_leaves")
            .await,
        ["9"]
    );
    let head = head_covering_every_leaf(&first).await;
    // Every instance serves the same heads and proves every instance's decisions.
    for app in std::iter::once(&first).chain(others.iter()) {
        for id in &decisions {
            let mut answer = None;
            for _ in 0..50 {
                let response = app
                    .http
                    .get(app.url(&format!(
                        "/api/v1/log/inclusion?event_id={id}&tree_size={}",
                        head["tree_size"]
                    )))
                    .send()
                    .await
                    .unwrap();
                if response.status() == 200 {
                    answer = Some(response.json::<Value>().await.unwrap());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let answer = answer.unwrap_or_else(|| panic!("{id} proven by every instance"));
            assert_eq!(answer["root_hash"], head["root_hash"]);
        }
    }
    let (code, text) = verify(&first);
    assert_eq!(code, 0, "{text}");
}

/// The preference center's "Your data" links each stored decision to its inclusion proof, and
/// the visitor's access export carries the salt their decision's leaf commits with.
async fn your_data_links_each_decision_to_its_proof(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    let decided = app.post_json(&cookies, &decision("accept_all")).await;
    assert_eq!(decided.status(), 201);
    let cookies = crate::common::cookies_after(&ssaid, &decided);
    let body: Value = decided.json().await.unwrap();
    let event_id = body["consent"]["event_id"].as_str().unwrap().to_owned();
    let page = app
        .get("/preferences", &cookies)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            r#"href="/api/v1/log/inclusion?event_id={event_id}" data-testid="decision-proof""#
        )),
        "{page}"
    );
    let own: Value = app.get("/api/v1/me", &cookies).await.json().await.unwrap();
    let salt = own["consent_events"][0]["log_salt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(salt.len(), 32);
    let receipt: Value = app
        .get(&format!("/api/v1/consent/{event_id}/receipt"), &cookies)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(receipt["receipt"]["log"]["salt"], salt.as_str());
}
