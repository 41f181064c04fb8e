//! Keys that rotate: two instances mid-rotation, with the same ring in different orders,
//! accept each other's tokens and re-issue them with their own signing key; a retired key's
//! tokens are refused and counted.

use crate::audit::verify_receipt;
use crate::common::*;
use crate::on_both_engines;
use secrecy::{SecretSlice, SecretString};
use server::infra::config::KeyEntry;
use server::infra::tokens::{KeyRing, TokenSigner};
use server::startup::Application;

on_both_engines![
    instances_mid_rotation_accept_each_others_tokens,
    a_retired_keys_tokens_are_refused_and_counted,
    the_cli_generates_a_key_entry_the_service_loads,
    a_rotation_keeps_the_pseudonyms_through_the_printed_pseudonym_key,
];

async fn a_rotation_keeps_the_pseudonyms_through_the_printed_pseudonym_key(engine: Engine) {
    use base64::Engine as _;
    let encode = |byte: u8| base64::engine::general_purpose::STANDARD.encode([byte; 32]);
    // Before the rotation: one key, the pseudonym key derived from it.
    let single = vec![entry(OLD)];
    let before = spawn_with(engine, {
        let single = single.clone();
        move |settings| {
            settings.signing_key = None;
            settings.signing_keys = single;
        }
    })
    .await;
    let ssaid = before.new_visitor().await;
    let cookie = format!("zc_ssaid={ssaid}");
    let data: serde_json::Value = before
        .get("/api/v1/me", &cookie)
        .await
        .json()
        .await
        .unwrap();
    let visitor_id = data["matomo"]["visitor_id"].clone();

    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["keys", "pseudonym"])
        .env(
            "ZC_SIGNING_KEYS",
            format!("[{{id=\"{}\",key=\"{}\"}}]", OLD.0, encode(OLD.1)),
        )
        .env("ZC_COOKIE_SECURE", "false")
        .env_remove("ZC_CONFIG")
        .current_dir(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let printed = String::from_utf8(printed.stdout).unwrap();
    let key = printed
        .trim()
        .strip_prefix("pseudonym_key = \"")
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap()
        .to_owned();

    // A ring of two without it is refused: the derived key would change.
    let refused = Application::build(server::infra::config::Settings {
        signing_key: None,
        signing_keys: vec![entry(NEW), entry(OLD)],
        ..settings_for(&before)
    })
    .await;
    assert!(
        refused
            .err()
            .unwrap()
            .to_string()
            .contains("pseudonym_key must be set")
    );

    // With it, the rotated service computes the same Matomo visitor id.
    let rotated = spawn_beside(&before, move |settings| {
        settings.signing_key = None;
        settings.signing_keys = vec![entry(NEW), entry(OLD)];
        settings.pseudonym_key = Some(SecretString::from(key));
    })
    .await;
    let data: serde_json::Value = rotated
        .get("/api/v1/me", &cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(data["matomo"]["visitor_id"], visitor_id);
}

async fn the_cli_generates_a_key_entry_the_service_loads(engine: Engine) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["keys", "generate", "--id", "2027-01"])
        .env_remove("ZC_CONFIG")
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    let entry: KeyEntry =
        toml::from_str::<toml::Table>(&format!("entry = {printed}")).unwrap()["entry"]
            .clone()
            .try_into()
            .unwrap();
    assert_eq!(entry.id, "2027-01");
    let app = spawn_with(engine, move |settings| {
        settings.signing_key = None;
        settings.signing_keys = vec![entry];
    })
    .await;
    assert_eq!(kid_of(&app.new_visitor().await), "2027-01");
}

const OLD: (&str, u8) = ("2026-05", 0x51);
const NEW: (&str, u8) = ("2026-11", 0x52);

fn entry((id, byte): (&str, u8)) -> KeyEntry {
    use base64::Engine;
    KeyEntry {
        id: id.to_owned(),
        key: SecretString::from(base64::engine::general_purpose::STANDARD.encode([byte; 32])),
    }
}

/// The pseudonym key a rotation keeps (see `server keys pseudonym`).
const PSEUDONYM_KEY: [u8; 32] = [0x77; 32];

async fn with_ring(engine: Engine, ring: &[(&str, u8)]) -> TestApp {
    let keys: Vec<KeyEntry> = ring.iter().copied().map(entry).collect();
    spawn_with(engine, move |settings| {
        use base64::Engine as _;
        settings.signing_key = None;
        settings.signing_keys = keys;
        settings.pseudonym_key = Some(SecretString::from(
            base64::engine::general_purpose::STANDARD.encode(PSEUDONYM_KEY),
        ));
    })
    .await
}

/// Verifies with both keys, whichever signs.
fn both_keys() -> TokenSigner {
    TokenSigner::ring(
        &KeyRing::new(
            [OLD, NEW]
                .iter()
                .map(|(id, byte)| ((*id).to_owned(), SecretSlice::from(vec![*byte; 32])))
                .collect(),
        )
        .unwrap(),
    )
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn instances_mid_rotation_accept_each_others_tokens(engine: Engine) {
    // Step one of a rotation: NEW is added second everywhere; one instance already moved it
    // first (step two), the other not yet.
    let not_yet = with_ring(engine, &[OLD, NEW]).await;
    let moved = with_ring(engine, &[NEW, OLD]).await;
    let tokens = both_keys();

    let ssaid = not_yet.new_visitor().await;
    assert_eq!(kid_of(&ssaid), OLD.0);
    let decided = not_yet
        .post_json(&format!("zc_ssaid={ssaid}"), &decision("accept_all"))
        .await;
    assert_eq!(decided.status(), 201);
    let cookies = cookies_after(&ssaid, &decided);
    let consent = set_cookie(&decided, "zc_consent").unwrap();

    // The moved instance trusts both cookies and signs them again with NEW: same SSAID, same
    // choice, same expiry.
    let answer = moved.get("/api/v1/consent", &cookies).await;
    assert_eq!(answer.status(), 200);
    let resigned_ssaid = set_cookie(&answer, "zc_ssaid").expect("SSAID re-issued");
    let resigned_consent = set_cookie(&answer, "zc_consent").expect("consent re-issued");
    let status: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(status["needs_prompt"], false, "the choice still holds");
    assert_eq!(kid_of(&resigned_ssaid), NEW.0);
    assert_eq!(kid_of(&resigned_consent), NEW.0);
    assert_eq!(
        ssaid_of(&tokens, &resigned_ssaid),
        ssaid_of(&tokens, &ssaid)
    );
    let before: server::domain::ConsentClaims = tokens.verify(&consent, "zc_consent").unwrap();
    let after: server::domain::ConsentClaims =
        tokens.verify(&resigned_consent, "zc_consent").unwrap();
    assert_eq!(after, before);

    // A cookie signed with the current key is left alone.
    let settled = format!("zc_ssaid={resigned_ssaid}; zc_consent={resigned_consent}");
    let again = moved.get("/api/v1/consent", &settled).await;
    assert!(set_cookie(&again, "zc_ssaid").is_none());
    assert!(set_cookie(&again, "zc_consent").is_none());
    // And the instance that has not moved yet accepts NEW's cookies too.
    let back = not_yet.get("/api/v1/consent", &settled).await;
    assert_eq!(back.status(), 200);
    assert_eq!(kid_of(&set_cookie(&back, "zc_ssaid").unwrap()), OLD.0);

    // Receipts signed by either verify with either instance's published keys.
    let event_id = before.eid;
    let receipt = not_yet
        .get(&format!("/api/v1/consent/{event_id}/receipt"), &cookies)
        .await;
    let receipt: serde_json::Value = receipt.json().await.unwrap();
    let jwks = moved.get("/.well-known/jwks.json", "").await;
    let jwks: serde_json::Value = jwks.json().await.unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    verify_receipt(receipt["jws"].as_str().unwrap(), &jwks);
}

async fn a_retired_keys_tokens_are_refused_and_counted(engine: Engine) {
    let old = with_ring(engine, &[OLD]).await;
    let (ssaid, cookies) = old.decided_visitor("reject_all").await;

    let retired = with_ring(engine, &[NEW]).await;
    let answer = retired.get("/api/v1/consent", &cookies).await;
    let fresh = set_cookie(&answer, "zc_ssaid").expect("a new SSAID");
    let tokens = both_keys();
    assert_ne!(ssaid_of(&tokens, &fresh), ssaid_of(&tokens, &ssaid));
    let status: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(
        status["needs_prompt"], true,
        "a retired key's choice is not trusted"
    );
    let metrics = retired.metrics().await;
    assert!(
        metrics.contains(r#"zeccloud_tokens_refused_total{reason="unknown_key"} 2"#),
        "{metrics}"
    );
}
