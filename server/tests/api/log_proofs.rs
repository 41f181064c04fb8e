//! The consent log from outside (docs/consent-log.md, docs/verify-a-receipt.md): a decision's
//! receipt proves, with the independent verifier (`log_independent`), that its record is in a
//! tree the log's key signed; two heads are consistent; `scripts/verify-receipt.py` verifies a
//! real receipt; `server log witness` follows the log's growth and catches a fork or a
//! rollback in its state.

use crate::common::{Engine, Fetch, LOG_KEY, POLICY_VERSION, TestApp, spawn};
use crate::log_independent::{self as independent, Hash, NoteKey};
use crate::on_both_engines;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

on_both_engines![
    a_receipt_proves_its_record_is_in_a_signed_tree,
    later_heads_are_consistent_with_earlier_ones,
    the_python_script_verifies_a_real_receipt,
    the_witness_follows_the_log_and_catches_forks_and_rollbacks,
];

/// How long a test waits for a head that includes what it just logged (heads come every
/// second in tests).
const HEAD_WAIT: Duration = Duration::from_secs(60);

/// Records a new visitor's decision; its event id.
async fn decide(app: &TestApp, action: &str) -> String {
    let ssaid = app.new_visitor().await;
    let body = format!(r#"{{"policy_version":"{POLICY_VERSION}","action":"{action}"}}"#);
    let answer = app.post_json(&format!("zc_ssaid={ssaid}"), &body).await;
    assert_eq!(answer.status(), 201);
    let answer: Value = answer.json().await.unwrap();
    answer["consent"]["event_id"].as_str().unwrap().to_owned()
}

/// The receipt endpoint's answer for decision `id`, as an admin fetches it.
async fn receipt(app: &TestApp, id: &str) -> Value {
    let answer = app
        .get_as_admin(&format!("/api/v1/consent/{id}/receipt"))
        .await;
    assert_eq!(answer.status(), 200, "receipt of {id}");
    answer.json().await.unwrap()
}

fn log_entry(receipt: &Value) -> &Value {
    let log = &receipt["receipt"]["log"];
    assert!(log.is_object(), "the receipt has a log entry: {receipt:#}");
    log
}

/// The inclusion proof at `url` (a receipt's `log.inclusion`), once a head includes the leaf:
/// until then the service answers 409 with `Retry-After`.
async fn inclusion(app: &TestApp, url: &str) -> Value {
    let started = Instant::now();
    loop {
        let answer = app.http.get(url).fetch().await;
        if answer.status() == 200 {
            return answer.json().await.unwrap();
        }
        assert_eq!(answer.status(), 409, "{url}");
        assert!(
            answer.headers().contains_key("retry-after"),
            "a 409 says when to ask again"
        );
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "log_entry_not_yet_signed", "{body}");
        assert!(
            started.elapsed() < HEAD_WAIT,
            "no head includes {url} after {HEAD_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `GET /api/v1/log/key`.
async fn keys(app: &TestApp) -> Value {
    let answer = app.http.get(app.url("/api/v1/log/key")).fetch().await;
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

/// The latest head once it has more than `leaves` leaves, opened with the independent
/// verifier; the answer and the checkpoint.
async fn head_beyond(
    app: &TestApp,
    leaves: u64,
    key: &NoteKey,
) -> (Value, independent::Checkpoint) {
    let started = Instant::now();
    loop {
        let answer = app.http.get(app.url("/api/v1/log/head")).fetch().await;
        if answer.status() == 200 {
            let head: Value = answer.json().await.unwrap();
            let checkpoint = independent::open_note(
                head["checkpoint"].as_str().unwrap(),
                std::slice::from_ref(key),
            )
            .unwrap_or_else(|err| panic!("{err}: {head:#}"));
            // The answer's fields are the checkpoint's.
            assert_eq!(head["tree_size"], checkpoint.size);
            assert_eq!(head["root_hash"], STANDARD.encode(checkpoint.root));
            assert_eq!(head["origin"], checkpoint.origin.as_str());
            assert_eq!(head["key_id"], independent::hex(&key.key_id));
            assert_eq!(head["timestamp"], checkpoint.timestamp().unwrap());
            if checkpoint.size > leaves {
                return (head, checkpoint);
            }
        } else {
            assert_eq!(answer.status(), 404, "no head yet, or a head");
        }
        assert!(
            started.elapsed() < HEAD_WAIT,
            "no head beyond {leaves} leaves after {HEAD_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The log's key as the tests configure it (`LOG_KEY`), derived here, named `name`.
fn configured_key(name: &str) -> (NoteKey, String) {
    let public = ed25519_dalek::SigningKey::from_bytes(&LOG_KEY)
        .verifying_key()
        .to_bytes();
    let id = independent::key_id(name, &public);
    let mut typed = vec![0x01];
    typed.extend_from_slice(&public);
    let verifier_key = format!(
        "{name}+{}+{}",
        independent::hex(&id),
        STANDARD.encode(typed)
    );
    (NoteKey::parse(&verifier_key).unwrap(), verifier_key)
}

/// The log's name and its key: the key the service publishes as current is the configured
/// one.
async fn log_key(app: &TestApp) -> (NoteKey, String) {
    let keys = keys(app).await;
    let served = independent::keys_of(&keys).unwrap();
    assert_eq!(served.len(), 1, "{keys:#}");
    let current = &keys["keys"][0];
    assert_eq!(current["current"], true);
    let (key, verifier_key) = configured_key(current["name"].as_str().unwrap());
    assert_eq!(current["verifier_key"], verifier_key.as_str());
    (key, verifier_key)
}

fn hash_of(value: &Value) -> Hash {
    STANDARD
        .decode(value.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

async fn a_receipt_proves_its_record_is_in_a_signed_tree(engine: Engine) {
    let app = spawn(engine).await;
    let (key, _) = log_key(&app).await;
    let mut checked = Vec::new();
    for action in ["accept_all", "reject_all", "accept_all"] {
        let id = decide(&app, action).await;
        let receipt = receipt(&app, &id).await;
        let log = log_entry(&receipt);
        let url = log["inclusion"].as_str().unwrap();
        assert!(
            url.starts_with(&app.url("/api/v1/log/inclusion?")) && url.contains(&id),
            "{url}"
        );
        let inclusion = inclusion(&app, url).await;
        let proved = independent::check_receipt(&receipt, &inclusion, &keys(&app).await)
            .unwrap_or_else(|err| panic!("{err}\n{receipt:#}\n{inclusion:#}"));
        assert_eq!(proved.checkpoint.signed_by, key.name);
        // The record is the decision the receipt describes.
        let record: Value = serde_json::from_str(log["record"].as_str().unwrap()).unwrap();
        assert_eq!(record["action"], action);
        assert_eq!(record["ssaid"], receipt["receipt"]["pii_principal_id"]);
        assert_eq!(record["policy_version"], POLICY_VERSION);
        checked.push((id, proved.leaf_index, inclusion));
    }
    // Three leaves, in the order decided.
    let indexes: Vec<u64> = checked.iter().map(|(_, index, _)| *index).collect();
    assert!(
        indexes.windows(2).all(|pair| pair[0] < pair[1]),
        "{indexes:?}"
    );

    // The first decision's proof against the head of its own inclusion answer (a stored head)
    // still verifies once the log has grown, and against the latest head too.
    let (first_id, first_index, first_inclusion) = &checked[0];
    let size = first_inclusion["tree_size"].as_u64().unwrap();
    let (_, latest) = head_beyond(&app, indexes[2], &key).await;
    for tree_size in [size, latest.size] {
        let answer: Value = app
            .http
            .get(app.url(&format!(
                "/api/v1/log/inclusion?event_id={first_id}&tree_size={tree_size}"
            )))
            .fetch_json()
            .await;
        assert_eq!(answer["tree_size"], tree_size, "{answer:#}");
        let checkpoint = independent::open_note(
            answer["checkpoint"].as_str().unwrap(),
            std::slice::from_ref(&key),
        )
        .unwrap();
        assert_eq!(checkpoint.size, tree_size);
        let path: Vec<Hash> = answer["audit_path"]
            .as_array()
            .unwrap()
            .iter()
            .map(hash_of)
            .collect();
        assert!(independent::verify_inclusion(
            *first_index,
            tree_size,
            &hash_of(&first_inclusion["leaf_hash"]),
            &path,
            &checkpoint.root,
        ));
    }

    // A receipt whose record was changed does not verify.
    let (id, _, inclusion) = &checked[1];
    let mut forged = receipt(&app, id).await;
    let record = forged["receipt"]["log"]["record"]
        .as_str()
        .unwrap()
        .replace("reject_all", "accept_all");
    forged["receipt"]["log"]["record"] = record.into();
    assert!(independent::check_receipt(&forged, inclusion, &keys(&app).await).is_err());

    // Unknown events and heads.
    let unknown = uuid::Uuid::now_v7();
    let answer = app
        .http
        .get(app.url(&format!("/api/v1/log/inclusion?event_id={unknown}")))
        .fetch()
        .await;
    crate::common::assert_error(answer, 404, "log_entry_not_found").await;
    let answer = app
        .http
        .get(app.url(&format!(
            "/api/v1/log/inclusion?event_id={first_id}&tree_size={}",
            latest.size + 1000
        )))
        .fetch()
        .await;
    crate::common::assert_error(answer, 404, "log_head_not_found").await;
}

/// `GET /api/v1/log/consistency?first=…&second=…`: the answer and its proof.
async fn consistency(app: &TestApp, first: u64, second: u64) -> (Value, Vec<Hash>) {
    let answer: Value = app
        .http
        .get(app.url(&format!(
            "/api/v1/log/consistency?first={first}&second={second}"
        )))
        .fetch_json()
        .await;
    assert_eq!(answer["first"], first, "{answer:#}");
    assert_eq!(answer["second"], second, "{answer:#}");
    let path = answer["proof"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer:#}"))
        .iter()
        .map(hash_of)
        .collect();
    (answer, path)
}

async fn later_heads_are_consistent_with_earlier_ones(engine: Engine) {
    let app = spawn(engine).await;
    let (key, _) = log_key(&app).await;
    let id = decide(&app, "accept_all").await;
    let index = log_entry(&receipt(&app, &id).await)["leaf_index"]
        .as_u64()
        .unwrap();
    let (_, first) = head_beyond(&app, index, &key).await;
    let mut last = index;
    for action in ["reject_all", "accept_all", "withdraw"] {
        let event_id = decide(&app, action).await;
        last = log_entry(&receipt(&app, &event_id).await)["leaf_index"]
            .as_u64()
            .unwrap();
    }
    let (_, second) = head_beyond(&app, last, &key).await;
    assert!(second.size > first.size);
    assert!(second.timestamp() >= first.timestamp());

    // Checked against the roots the two signed heads name, not the answer's.
    let (answer, path) = consistency(&app, first.size, second.size).await;
    assert!(independent::verify_consistency(
        first.size,
        second.size,
        &first.root,
        &second.root,
        &path
    ));
    assert_eq!(hash_of(&answer["first_root"]), first.root);
    assert_eq!(hash_of(&answer["second_root"]), second.root);
    // Against other roots it fails: another tree of that size is not a prefix.
    let mut other = first.root;
    other[0] ^= 1;
    assert!(!independent::verify_consistency(
        first.size,
        second.size,
        &other,
        &second.root,
        &path
    ));
    // A tree is consistent with itself (an empty proof), and every earlier size with the head.
    let (_, path) = consistency(&app, second.size, second.size).await;
    assert!(path.is_empty());
    for size in 1..second.size {
        let (answer, path) = consistency(&app, size, second.size).await;
        assert!(
            independent::verify_consistency(
                size,
                second.size,
                &hash_of(&answer["first_root"]),
                &second.root,
                &path
            ),
            "{size} to {}",
            second.size
        );
    }
}

/// Runs `program args` off the test's runtime (the service answers on it meanwhile); its exit
/// code, standard output and standard error.
async fn run(program: PathBuf, args: Vec<String>) -> (i32, String, String) {
    let output = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        std::process::Command::new(&program)
            .args(&args)
            .env_remove("ZC_CONFIG")
            .current_dir(dir.path())
            .output()
            .unwrap_or_else(|err| panic!("{}: {err}", program.display()))
    })
    .await
    .unwrap();
    (
        output.status.code().expect("exited"),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn script() -> String {
    format!(
        "{}/../scripts/verify-receipt.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

async fn the_python_script_verifies_a_real_receipt(engine: Engine) {
    let app = spawn(engine).await;
    let (_, verifier_key) = log_key(&app).await;
    let id = decide(&app, "accept_all").await;
    let receipt = receipt(&app, &id).await;
    // Wait for the head here: the script waits too, but only a few times.
    let inclusion = inclusion(&app, log_entry(&receipt)["inclusion"].as_str().unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, json: &Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(json).unwrap()).unwrap();
        path.display().to_string()
    };
    let receipt_file = file("receipt.json", &receipt);
    let inclusion_file = file("inclusion.json", &inclusion);
    let python = PathBuf::from("python3");

    // Fetching the proof, with the key pinned; fetching the key too; offline.
    for args in [
        vec![
            script(),
            receipt_file.clone(),
            "--key".into(),
            verifier_key.clone(),
        ],
        vec![script(), receipt_file.clone()],
        vec![
            script(),
            receipt_file.clone(),
            "--inclusion".into(),
            inclusion_file.clone(),
            "--key".into(),
            verifier_key.clone(),
        ],
    ] {
        let (code, out, err) = run(python.clone(), args.clone()).await;
        assert_eq!(code, 0, "{args:?}\n{out}\n{err}");
        assert!(out.contains("VERIFIED"), "{out}");
        assert!(!out.contains("FAIL"), "{out}");
    }

    // A changed record, or another key, fails.
    let mut forged = receipt.clone();
    let record = forged["receipt"]["log"]["record"]
        .as_str()
        .unwrap()
        .replace("accept_all", "reject_all");
    forged["receipt"]["log"]["record"] = record.into();
    let forged_file = file("forged.json", &forged);
    let (code, out, _) = run(
        python.clone(),
        vec![
            script(),
            forged_file,
            "--inclusion".into(),
            inclusion_file.clone(),
        ],
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL SHA-256(salt || record)"), "{out}");
    let other = ed25519_dalek::SigningKey::from_bytes(&[12; 32]).verifying_key();
    let name = verifier_key.split('+').next().unwrap();
    let id = independent::key_id(name, other.as_bytes());
    let other_key = format!(
        "{name}+{}+{}",
        independent::hex(&id),
        STANDARD.encode([&[1u8][..], other.as_bytes()].concat())
    );
    let (code, out, _) = run(
        python,
        vec![
            script(),
            receipt_file,
            "--inclusion".into(),
            inclusion_file,
            "--key".into(),
            other_key,
        ],
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT VERIFIED"), "{out}");
}

/// `server log witness` against the test's service; `key` pins the verifier key.
async fn witness(app: &TestApp, state: &Path, key: Option<&str>) -> (i32, String, String) {
    witness_at(&app.base, state, key).await
}

async fn witness_at(url: &str, state: &Path, key: Option<&str>) -> (i32, String, String) {
    let mut args = vec![
        "log".to_owned(),
        "witness".to_owned(),
        url.to_owned(),
        "--state".to_owned(),
        state.display().to_string(),
    ];
    if let Some(key) = key {
        args.extend(["--key".to_owned(), key.to_owned()]);
    }
    run(PathBuf::from(env!("CARGO_BIN_EXE_server")), args).await
}

fn read_state(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

async fn the_witness_follows_the_log_and_catches_forks_and_rollbacks(engine: Engine) {
    let app = spawn(engine).await;
    let (key, verifier_key) = log_key(&app).await;
    let id = decide(&app, "accept_all").await;
    let index = log_entry(&receipt(&app, &id).await)["leaf_index"]
        .as_u64()
        .unwrap();
    let (head, first) = head_beyond(&app, index, &key).await;
    let dir = tempfile::tempdir().unwrap();

    // Trust on first use: the key the service serves is pinned.
    let tofu = dir.path().join("tofu.json");
    let (code, out, err) = witness(&app, &tofu, None).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("trusting the key"), "{out}");
    assert_eq!(read_state(&tofu)["verifier_key"], verifier_key.as_str());

    // With the key given: the head is recorded.
    let state = dir.path().join("witness.json");
    let (code, out, err) = witness(&app, &state, Some(&verifier_key)).await;
    assert_eq!(code, 0, "{out}{err}");
    let recorded = read_state(&state);
    assert!(recorded["tree_size"].as_u64().unwrap() >= first.size);
    assert_eq!(recorded["origin"], head["origin"]);
    assert_eq!(recorded["verifier_key"], verifier_key.as_str());
    let opened = independent::open_note(
        recorded["checkpoint"].as_str().unwrap(),
        std::slice::from_ref(&key),
    )
    .unwrap();
    assert_eq!(opened.size, recorded["tree_size"]);
    assert_eq!(STANDARD.encode(opened.root), recorded["root_hash"]);

    // The log grows: the witness checks the consistency proof and moves on.
    let mut last = index;
    for action in ["reject_all", "accept_all"] {
        let id = decide(&app, action).await;
        last = log_entry(&receipt(&app, &id).await)["leaf_index"]
            .as_u64()
            .unwrap();
    }
    let (_, grown) = head_beyond(&app, last, &key).await;
    for state in [&state, &tofu] {
        let (code, out, err) = witness(&app, state, None).await;
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("consistent: "), "{out}");
        assert!(read_state(state)["tree_size"].as_u64().unwrap() >= grown.size);
    }
    // Nothing new: unchanged, still consistent.
    let (code, out, err) = witness(&app, &state, None).await;
    assert_eq!(code, 0, "{out}{err}");
    let current = read_state(&state);
    let size = current["tree_size"].as_u64().unwrap();

    // A fork: the witness saw another root for the service's size. Exit 1, both heads named.
    let forked = dir.path().join("forked.json");
    let mut seen = current.clone();
    seen["root_hash"] = STANDARD.encode([0xab; 32]).into();
    std::fs::write(&forked, seen.to_string()).unwrap();
    let (code, out, err) = witness(&app, &forked, None).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("fork"), "{err}");
    assert!(err.contains(&STANDARD.encode([0xab; 32])), "{err}");
    assert!(
        err.contains(current["root_hash"].as_str().unwrap()),
        "{err}"
    );
    // The state is left as it was, so the alarm repeats until someone looks.
    assert_eq!(read_state(&forked), seen);

    // A fork further back: a smaller tree the service's does not extend.
    let mut seen = current.clone();
    seen["tree_size"] = 1.into();
    seen["root_hash"] = STANDARD.encode([0xcd; 32]).into();
    std::fs::write(&forked, seen.to_string()).unwrap();
    let (code, out, err) = witness(&app, &forked, None).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("fork"), "{err}");

    // A rollback: the witness saw a larger tree than the service now serves.
    let rolled = dir.path().join("rolled.json");
    let mut seen = current.clone();
    seen["tree_size"] = (size + 5).into();
    std::fs::write(&rolled, seen.to_string()).unwrap();
    let (code, out, err) = witness(&app, &rolled, None).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("rollback"), "{err}");
    assert!(
        err.contains(&format!("{} leaves", size + 5)) && err.contains(&format!("{size} leaves")),
        "{err}"
    );

    // Another key: the head does not verify.
    let other = ed25519_dalek::SigningKey::from_bytes(&[12; 32]).verifying_key();
    let name = key.name.as_str();
    let other_key = format!(
        "{name}+{}+{}",
        independent::hex(&independent::key_id(name, other.as_bytes())),
        STANDARD.encode([&[1u8][..], other.as_bytes()].concat())
    );
    let (code, out, err) = witness(&app, &state, Some(&other_key)).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("bad signature"), "{err}");

    // Cannot check: no service there, or a state that is not one.
    let (code, _, err) = witness_at("http://127.0.0.1:9", &state, None).await;
    assert_eq!(code, 2, "{err}");
    let garbled = dir.path().join("garbled.json");
    std::fs::write(&garbled, "{").unwrap();
    let (code, _, err) = witness(&app, &garbled, None).await;
    assert_eq!(code, 2, "{err}");
    // The real state is untouched by all this and still consistent.
    assert_eq!(read_state(&state), current);
    let (code, out, err) = witness(&app, &state, None).await;
    assert_eq!(code, 0, "{out}{err}");
}
