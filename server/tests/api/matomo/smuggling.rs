//! Parameter smuggling through the gate (issue 28): Matomo is PHP, and PHP rewrites a
//! parameter's name before Matomo reads it (leading spaces dropped, `.` and space turned into
//! `_`, the name cut at NUL, `a[x]` made an array). Every spelling of a parameter the gate
//! sets or keeps for consent is sent, in single and bulk hits, with and without consent; what
//! the upstream received is read back the way PHP reads it and compared whole.

use super::{CHROME_DESKTOP, JAPANESE, MATOMO_TOKEN, Recorded, gate};
use crate::common::{Engine, Fetch};
use crate::on_both_engines;
use secrecy::SecretString;
use server::domain::tracking::WithoutConsent;
use std::collections::BTreeMap;

on_both_engines!(no_spelling_of_a_withheld_parameter_reaches_matomo);

/// The parameters the gate sets itself or forwards only with consent.
const SMUGGLED: [&str; 8] = [
    "cdt",
    "cip",
    "uid",
    "cid",
    "_id",
    "token_auth",
    "_cvar",
    "cvar",
];

/// Every spelling of `name` that PHP may read as `name` (or as its array), percent-encoded.
fn spellings(name: &str) -> Vec<String> {
    let mut spellings = vec![
        name.to_owned(),
        format!("+{name}"),
        format!("%20{name}"),
        format!("%20%20{name}"),
        format!("{name}%00junk"),
        format!("{name}%5B%5D"),
        format!("{name}%5Bx%5D"),
        format!("{name}%5B%5D%5B%5D"),
    ];
    if name.contains('_') {
        // PHP turns `.` and space into `_`, and an unclosed `[` too.
        spellings.push(name.replace('_', "."));
        spellings.push(name.replace('_', "%20"));
        spellings.push(name.replacen('_', "%5B", 1));
        spellings.push(format!("+{}", name.replace('_', ".")));
    }
    spellings
}

/// A page view carrying every spelling of every withheld parameter, each valued
/// `smuggled-<name>`.
fn smuggling_query(label: &str) -> String {
    let mut query =
        format!("idsite=1&rec=1&action_name={label}&url=https%3A%2F%2Fwww.zeccloud.test%2F");
    for name in SMUGGLED {
        for spelling in spellings(name) {
            query.push_str(&format!("&{spelling}=smuggled-{name}"));
        }
    }
    query
}

/// The name PHP registers for a decoded parameter name (`php_register_variable_ex`), or none
/// when PHP drops it; an array is shown as `name[]`. Written here on its own, from PHP's
/// rules, not taken from the server.
fn php_variable(raw: &str) -> Option<String> {
    let raw = raw.trim_start_matches(' ');
    let raw = &raw[..raw.find('\0').unwrap_or(raw.len())];
    let mut name = String::new();
    for (at, c) in raw.char_indices() {
        match c {
            ' ' | '.' => name.push('_'),
            '[' if name.is_empty() => return None,
            '[' => {
                let rest = &raw[at + 1..];
                if rest.contains(']') {
                    return Some(format!("{name}[]"));
                }
                name.push('_');
                name.extend(rest.chars().map(|c| match c {
                    ' ' | '.' | '[' => '_',
                    c => c,
                }));
                return Some(name);
            }
            c => name.push(c),
        }
    }
    (!name.is_empty()).then_some(name)
}

/// `parse_str`: each variable as PHP registers it, the last value winning.
fn php_reads(encoded: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(encoded.as_bytes()) {
        if let Some(name) = php_variable(&name) {
            vars.insert(name, value.into_owned());
        }
    }
    vars
}

/// The raw names as they were sent, in order; each must be one PHP keeps as it is, so the
/// gate and Matomo cannot read a hit differently.
fn assert_canonical_names(encoded: &str) -> Vec<String> {
    let names: Vec<String> = form_urlencoded::parse(encoded.as_bytes())
        .map(|(name, _)| name.into_owned())
        .collect();
    for name in &names {
        assert_eq!(
            php_variable(name).as_deref(),
            Some(name.as_str()),
            "PHP reads {name:?} differently: {encoded}"
        );
    }
    names
}

/// What Matomo reads from one forwarded request: each hit's variables (`$_GET + $_POST`
/// for a single hit, `parse_str` of each entry of a bulk body) and the bulk body's own
/// `token_auth`.
fn matomo_reads(recorded: &Recorded) -> (Vec<BTreeMap<String, String>>, Option<String>) {
    if recorded.header("content-type") == Some("application/json; charset=UTF-8") {
        let body: serde_json::Value = serde_json::from_str(&recorded.body).unwrap();
        let hits = body["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| {
                let query = entry.as_str().unwrap().strip_prefix('?').unwrap();
                let names = assert_canonical_names(query);
                assert!(!names.iter().any(|n| n == "token_auth"), "{query}");
                php_reads(query)
            })
            .collect();
        let token = body
            .get("token_auth")
            .map(|t| t.as_str().unwrap().to_owned());
        return (hits, token);
    }
    let query = recorded.query.clone().unwrap_or_default();
    let mut names = assert_canonical_names(&query);
    names.extend(assert_canonical_names(&recorded.body));
    if let Some(at) = names.iter().position(|n| n == "token_auth") {
        assert_eq!(
            at,
            names.len() - 1,
            "the gate's token_auth comes last: {names:?}"
        );
        assert!(query.is_empty(), "the token never sits in a URL");
    }
    // `$_GET + $_POST`: the query string wins.
    let mut vars = php_reads(&recorded.body);
    vars.extend(php_reads(&query));
    (vec![vars], None)
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn no_spelling_of_a_withheld_parameter_reaches_matomo(engine: Engine) {
    let gate = gate(engine, |settings| {
        settings.matomo.without_consent = WithoutConsent::Anonymous;
        settings.matomo.token_auth = Some(SecretString::from(MATOMO_TOKEN.to_owned()));
    })
    .await;
    let consented = gate.visitor(true).await;
    let visitor_id = gate.visitor_id(&consented).await;
    let refused = gate.visitor(false).await;
    let url = "https://www.zeccloud.test/";
    // With consent: the identifiers the tracker sends pass, under the name Matomo reads;
    // `cid`, `cip` and `token_auth` are the gate's own, `cdt` is nobody's.
    let with_consent = |label: &str| {
        vars(&[
            ("_cvar", "smuggled-_cvar"),
            ("_id", "smuggled-_id"),
            ("action_name", label),
            ("cid", &visitor_id),
            ("cip", "127.0.0.0"),
            ("cvar", "smuggled-cvar"),
            ("idsite", "1"),
            ("lang", JAPANESE),
            ("rec", "1"),
            ("ua", CHROME_DESKTOP),
            ("uid", "smuggled-uid"),
            ("url", url),
        ])
    };
    // Without: none of them, no address and no token.
    let without_consent = |label: &str| {
        vars(&[
            ("action_name", label),
            ("cookie", "0"),
            ("idsite", "1"),
            ("lang", JAPANESE),
            ("rec", "1"),
            ("ua", CHROME_DESKTOP),
            ("url", url),
        ])
    };

    let mut forwards = 0;
    for (cookies, consent) in [(&consented, true), (&refused, false)] {
        let expected = |label: &str| {
            let mut expected = if consent {
                with_consent(label)
            } else {
                without_consent(label)
            };
            if consent {
                // A single hit carries the token itself; a bulk body carries it once.
                expected.insert("token_auth".into(), MATOMO_TOKEN.into());
            }
            expected
        };

        let get = gate
            .track_get(&smuggling_query("get"), cookies)
            .fetch()
            .await;
        assert_eq!(get.status(), 200);
        forwards += 1;
        let received = gate.upstream.wait_for(forwards).await;
        let (hits, _) = matomo_reads(&received[forwards - 1]);
        assert_eq!(hits, vec![expected("get")], "image hit, consent {consent}");

        let form = gate
            .track_post(&smuggling_query("form"), cookies)
            .fetch()
            .await;
        assert_eq!(form.status(), 200);
        forwards += 1;
        let received = gate.upstream.wait_for(forwards).await;
        let (hits, _) = matomo_reads(&received[forwards - 1]);
        assert_eq!(hits, vec![expected("form")], "form hit, consent {consent}");

        let bulk = serde_json::json!({
            "requests": [
                format!("?{}", smuggling_query("bulk-1")),
                format!("?{}", smuggling_query("bulk-2")),
            ],
            "token_auth": "forged",
        });
        let answer = gate.track_post(&bulk.to_string(), cookies).fetch().await;
        assert_eq!(answer.status(), 200);
        forwards += 1;
        let received = gate.upstream.wait_for(forwards).await;
        let (hits, token) = matomo_reads(&received[forwards - 1]);
        let entry = |label: &str| {
            let mut entry = expected(label);
            entry.remove("token_auth");
            entry
        };
        assert_eq!(
            hits,
            vec![entry("bulk-1"), entry("bulk-2")],
            "bulk, consent {consent}"
        );
        assert_eq!(
            token.as_deref(),
            consent.then_some(MATOMO_TOKEN),
            "the bulk body's token only vouches for the gate's own addresses"
        );
    }
}

#[test]
fn php_variable_names_as_php_registers_them() {
    let cases = [
        ("cdt", Some("cdt")),
        (" cdt", Some("cdt")),
        ("  cip", Some("cip")),
        (".id", Some("_id")),
        ("cid\0x", Some("cid")),
        ("\0cid", None),
        (".cvar", Some("_cvar")),
        ("cdt[]", Some("cdt[]")),
        ("cdt[x]", Some("cdt[]")),
        ("_id[0]", Some("_id[]")),
        ("c.dt", Some("c_dt")),
        ("token[auth", Some("token_auth")),
        ("[id", None),
        ("a[b.c", Some("a_b_c")),
    ];
    for (raw, expected) in cases {
        assert_eq!(php_variable(raw).as_deref(), expected, "{raw:?}");
    }
}
