use super::*;

fn hit(query: &str) -> TrackingHit {
    TrackingHit::parse(query).unwrap()
}

/// The upstream rule written plainly, parameter by parameter: what
/// [`TrackingHit::upstream_query`] must encode.
fn for_upstream(hit: &TrackingHit, visitor: &UpstreamFields<'_>) -> TrackingHit {
    let mut hit = hit.clone();
    for (key, value) in [
        ("ua", visitor.user_agent),
        ("lang", visitor.accept_language),
        ("cip", visitor.cip),
        ("cid", visitor.visitor_id),
    ] {
        if let Some(value) = value {
            hit.set(key, value);
        }
    }
    hit
}

/// The hit as the gate sends it, read back as plain pairs (parsing it as a hit would drop the
/// gate's own parameters).
fn sent(original: &TrackingHit, visitor: &UpstreamFields<'_>) -> Sent {
    Sent(
        form_urlencoded::parse(original.upstream_query(visitor).as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

struct Sent(Vec<(String, String)>);

impl Sent {
    /// The one value of `key`; a parameter sent twice fails the test.
    fn get(&self, key: &str) -> Option<&str> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str());
        let value = values.next();
        assert_eq!(values.next(), None, "{key} sent twice");
        value
    }
}

/// A bulk body from whole hits.
fn upstream_body(hits: &[TrackingHit], token: Option<&str>) -> String {
    let queries: Vec<String> = hits.iter().map(TrackingHit::to_query).collect();
    BulkRequest::body_of_queries(&queries, token)
}

#[test]
fn parses_query_strings_with_form_encoding() {
    let hit = hit("?idsite=3&rec=1&action_name=Caf%C3%A9+menu&url=https%3A%2F%2Fa.b%2F%3Fq%3D1");
    assert_eq!(hit.get("idsite"), Some("3"));
    assert_eq!(hit.get("action_name"), Some("Café menu"));
    assert_eq!(hit.get("url"), Some("https://a.b/?q=1"));
    let again = TrackingHit::parse(&hit.to_query()).unwrap();
    assert_eq!(again, hit, "serialising and parsing keeps every parameter");
}

#[test]
fn refuses_what_matomo_cannot_record() {
    assert_eq!(TrackingHit::parse(""), Err(HitError::Empty));
    assert_eq!(TrackingHit::parse("?"), Err(HitError::Empty));
    assert_eq!(TrackingHit::parse("rec=1"), Err(HitError::BadSiteId));
    assert_eq!(
        TrackingHit::parse("idsite=0&rec=1"),
        Err(HitError::BadSiteId)
    );
    assert_eq!(
        TrackingHit::parse("idsite=x&rec=1"),
        Err(HitError::BadSiteId)
    );
    assert_eq!(TrackingHit::parse("idsite=1"), Err(HitError::NotRecording));
    assert!(matches!(
        TrackingHit::parse("idsite=1&rec=1&url=%FF%FE"),
        Err(HitError::BadEncoding(_))
    ));
    let long = format!("idsite=1&rec=1&url={}", "a".repeat(MAX_HIT_BYTES));
    assert_eq!(TrackingHit::parse(&long), Err(HitError::TooLong));
}

#[test]
fn send_image_zero_asks_for_no_image() {
    assert!(hit("idsite=1&rec=1").wants_image());
    assert!(!hit("idsite=1&rec=1&send_image=0").wants_image());
}

#[test]
fn anonymised_hits_keep_no_identifier() {
    let personal = PersonalFields {
        dimensions: BTreeSet::from([2]),
    };
    let original = hit(
        "idsite=1&rec=1&url=https%3A%2F%2Fwww.zeccloud.com%2F&_id=0123456789abcdef\
         &uid=alice&_idn=0&_idts=1700000000&_idvc=4&_viewts=1700000100&_refts=1700000000\
         &_ref=https%3A%2F%2Fsearch.example%2F&_rcn=spring&_rck=kw&_ects=1700000000\
         &dimension1=pro&dimension2=alice%40example.com&cookie=1&res=1280x720\
         &_cvar=%7B%221%22%3A%5B%22plan%22%2C%22pro%22%5D%7D&cvar=%7B%7D",
    );
    assert_eq!(
        original.get("uid"),
        Some("alice"),
        "kept for a consented hit"
    );
    assert_eq!(original.get("_cvar"), Some(r#"{"1":["plan","pro"]}"#));
    let anonymous = original.anonymised(&personal);
    for key in IDENTIFIER_PARAMS {
        assert_eq!(anonymous.get(key), None, "{key} must be removed");
    }
    assert_eq!(anonymous.get("dimension2"), None);
    assert_eq!(anonymous.get("dimension1"), Some("pro"));
    assert_eq!(anonymous.get("cookie"), Some("0"));
    assert_eq!(anonymous.get("res"), Some("1280x720"));
    assert_eq!(anonymous.get("url"), Some("https://www.zeccloud.com/"));
    assert_eq!(
        anonymous
            .params()
            .iter()
            .filter(|(k, _)| k == "cookie")
            .count(),
        1
    );
}

#[test]
fn php_names_as_php_registers_them() {
    let name =
        |raw: &str| PhpName::parse(raw).map(|name| (name.base().to_owned(), name.is_array()));
    let plain = |base: &str| Some((base.to_owned(), false));
    let array = |base: &str| Some((base.to_owned(), true));
    // Leading spaces (`+` or `%20` once decoded) are dropped.
    assert_eq!(name(" cdt"), plain("cdt"));
    assert_eq!(name("  cip"), plain("cip"));
    assert_eq!(name(" uid"), plain("uid"));
    // `.` and space become `_` in the base name.
    assert_eq!(name(".id"), plain("_id"));
    assert_eq!(name(".cvar"), plain("_cvar"));
    assert_eq!(name("token.auth"), plain("token_auth"));
    assert_eq!(name("token auth"), plain("token_auth"));
    assert_eq!(name("c.dt"), plain("c_dt"));
    // Cut at the first NUL.
    assert_eq!(name("cid\0x"), plain("cid"));
    assert_eq!(name("\0cid"), None);
    // Arrays, whatever their index.
    assert_eq!(name("cdt[]"), array("cdt"));
    assert_eq!(name("cdt[x]"), array("cdt"));
    assert_eq!(name("_id[0]"), array("_id"));
    assert_eq!(name(".id[ ]"), array("_id"));
    assert_eq!(name("cdt[x]junk"), array("cdt"));
    // A `[` never closed is a `_`, and so is what PHP 8 rewrites after it.
    assert_eq!(name("token[auth"), plain("token_auth"));
    assert_eq!(name("a[b.c d["), plain("a_b_c_d_"));
    // Nothing left of the name: PHP drops the parameter.
    assert_eq!(name(""), None);
    assert_eq!(name("   "), None);
    assert_eq!(name("[id"), None);
    assert_eq!(name("[id]"), None);
    // Names PHP keeps as they are.
    assert_eq!(name("uid"), plain("uid"));
    assert_eq!(name("dimension3"), plain("dimension3"));
}

#[test]
fn only_listed_parameters_are_kept_under_the_name_matomo_reads() {
    let smuggled = hit(
        "idsite=1&rec=1&+cdt=1&%20cip=1.2.3.4&.id=0123456789abcdef&+uid=bob&cid%00x=ffffffffffffffff\
         &.cvar=%7B%7D&token.auth=forged&token%5Bauth=forged&cdt%5B%5D=1&_id%5B0%5D=x&c.dt=1\
         &country=fr&cdo=86400&debug=1&dimension07=x&dimension0=x&dimension12=ok&e.c=video",
    );
    assert_eq!(
        smuggled.params(),
        [
            ("idsite", "1"),
            ("rec", "1"),
            ("_id", "0123456789abcdef"),
            ("uid", "bob"),
            ("_cvar", "{}"),
            ("dimension12", "ok"),
            ("e_c", "video"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    for name in GATE_PARAMS {
        let spelled = hit(&format!("idsite=1&rec=1&{name}=x&+{name}=y&{name}%5B%5D=z"));
        assert_eq!(spelled.get(name), None, "{name} is the gate's");
    }
    // A repeated name keeps its last value, as PHP does; an unlisted one is no parameter.
    let repeated = hit("idsite=2&+idsite=1&rec=1&url=a&url=b");
    assert_eq!(repeated.get("idsite"), Some("1"));
    assert_eq!(repeated.get("url"), Some("b"));
    assert_eq!(
        TrackingHit::parse("idsite=1&%20rec=0"),
        Err(HitError::NotRecording)
    );
    assert_eq!(
        TrackingHit::parse("idsite%5B%5D=1&rec=1"),
        Err(HitError::BadSiteId)
    );
    assert_eq!(TrackingHit::parse("x=1"), Err(HitError::BadSiteId));
}

#[test]
fn the_lists_are_disjoint_and_as_php_spells_them() {
    for name in ANY_HIT_PARAMS
        .iter()
        .chain(IDENTIFIER_PARAMS)
        .chain(GATE_PARAMS)
    {
        let php = PhpName::parse(name).unwrap();
        assert_eq!((php.base(), php.is_array()), (*name, false));
    }
    for name in IDENTIFIER_PARAMS.iter().chain(GATE_PARAMS) {
        assert!(!ANY_HIT_PARAMS.contains(name), "{name}");
    }
    for name in GATE_PARAMS {
        assert_eq!(allowed(name), None, "{name}");
    }
}

#[test]
fn upstream_fields_replace_the_visitors_own() {
    let original =
        hit("idsite=1&rec=1&ua=spoofed&lang=xx&cip=1.2.3.4&token_auth=stolen&country=fr&cdt=1");
    let sent = sent(
        &original,
        &UpstreamFields {
            user_agent: Some("Mozilla/5.0 Test"),
            accept_language: Some("ja,en;q=0.8"),
            cip: None,
            visitor_id: None,
        },
    );
    assert_eq!(sent.get("ua"), Some("Mozilla/5.0 Test"));
    assert_eq!(sent.get("lang"), Some("ja,en;q=0.8"));
    assert_eq!(sent.get("cip"), None);
    assert_eq!(sent.get("token_auth"), None);
    assert_eq!(sent.get("country"), None);
    assert_eq!(sent.get("cdt"), None, "a visitor cannot back-date a hit");
    let with_ip = self::sent(
        &original,
        &UpstreamFields {
            cip: Some("203.0.0.0"),
            ..UpstreamFields::default()
        },
    );
    assert_eq!(with_ip.get("cip"), Some("203.0.0.0"));
    assert_eq!(with_ip.get("ua"), None, "never the visitor's own");
    let consented = self::sent(
        &hit("idsite=1&rec=1&cid=ffffffffffffffff"),
        &UpstreamFields {
            visitor_id: Some("0123456789abcdef"),
            ..UpstreamFields::default()
        },
    );
    assert_eq!(consented.get("cid"), Some("0123456789abcdef"));
}

#[test]
fn the_token_comes_last() {
    let query = hit("idsite=1&rec=1&token_auth=stolen").upstream_query(&UpstreamFields {
        cip: Some("203.0.0.0"),
        ..UpstreamFields::default()
    });
    assert_eq!(
        with_token(query, "secret&more"),
        "idsite=1&rec=1&cip=203.0.0.0&token_auth=secret%26more"
    );
}

#[test]
fn bulk_bodies_are_checked_entry_by_entry() {
    let bulk = BulkRequest::parse(
        br#"{"requests":["?idsite=1&rec=1&action_name=a","idsite=1&rec=1&action_name=b"],"send_image":0}"#,
    )
    .unwrap();
    assert_eq!(bulk.hits.len(), 2);
    assert_eq!(bulk.hits[1].get("action_name"), Some("b"));
    assert!(!bulk.send_image);
    assert!(is_bulk(b"  {\"requests\":[]}"));
    assert!(!is_bulk(b"idsite=1&rec=1"));

    let code = |body: &[u8]| BulkRequest::parse(body).unwrap_err().code().as_str();
    assert_eq!(code(b"{not json"), "invalid_bulk_json");
    assert_eq!(
        code(br#"{"requests":"?idsite=1&rec=1"}"#),
        "invalid_bulk_request"
    );
    assert_eq!(code(br#"{"requests":[]}"#), "invalid_bulk_request");
    assert_eq!(code(br#"{"requests":[1]}"#), "invalid_bulk_request");
    assert_eq!(
        BulkRequest::parse(br#"{"requests":["?idsite=1&rec=1","?idsite=1"]}"#),
        Err(HitError::BulkEntry {
            index: 1,
            reason: Box::new(HitError::NotRecording)
        })
    );
    let too_many = format!(
        r#"{{"requests":[{}]}}"#,
        vec![r#""?idsite=1&rec=1""#; MAX_BULK_HITS + 1].join(",")
    );
    assert_eq!(
        BulkRequest::parse(too_many.as_bytes()),
        Err(HitError::BulkTooMany)
    );
}

#[test]
fn upstream_query_is_for_upstream_encoded() {
    let hits = [
        "idsite=1&rec=1&ua=spoofed&lang=xx&cip=1.2.3.4&token_auth=stolen&country=fr&cdt=1",
        "idsite=1&rec=1&cid=ffffffffffffffff&cid=eeeeeeeeeeeeeeee&ua=a&ua=b&url=a&url=b",
        "idsite=3&rec=1&action_name=Caf%C3%A9+menu&url=https%3A%2F%2Fa.b%2F%3Fq%3D1&lat=1&long=2",
        "idsite=1&rec=1",
    ];
    let fields = [
        UpstreamFields::default(),
        UpstreamFields {
            user_agent: Some("Mozilla/5.0 (X11; Linux) \"quoted\" & more"),
            accept_language: Some("ja,en;q=0.8"),
            cip: Some("203.0.0.0"),
            visitor_id: Some("0123456789abcdef"),
        },
        UpstreamFields {
            accept_language: Some("fr"),
            ..UpstreamFields::default()
        },
    ];
    for query in hits {
        for visitor in &fields {
            let hit = hit(query);
            assert_eq!(
                hit.upstream_query(visitor),
                for_upstream(&hit, visitor).to_query(),
                "{query} with {visitor:?}"
            );
        }
    }
}

#[test]
fn bulk_body_of_prepared_queries_matches_the_hits() {
    let hits = vec![hit("idsite=1&rec=1&url=a%20b"), hit("idsite=2&rec=1")];
    for token in [None, Some("secret")] {
        let prepared: serde_json::Value =
            serde_json::from_str(&upstream_body(&hits, token)).unwrap();
        assert_eq!(prepared["requests"][0], "?idsite=1&rec=1&url=a+b");
        assert_eq!(prepared["requests"][1], "?idsite=2&rec=1");
        assert_eq!(prepared["send_image"], 0);
    }
}

#[test]
fn bulk_upstream_body_carries_the_token_once() {
    let query = hit("idsite=1&rec=1").upstream_query(&UpstreamFields {
        cip: Some("1.2.3.0"),
        ..UpstreamFields::default()
    });
    let body = BulkRequest::body_of_queries(&[query], Some("secret"));
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["token_auth"], "secret");
    assert_eq!(body["requests"][0], "?idsite=1&rec=1&cip=1.2.3.0");
    let without: serde_json::Value =
        serde_json::from_str(&upstream_body(&[hit("idsite=1&rec=1")], None)).unwrap();
    assert!(without.get("token_auth").is_none());
}

#[test]
fn gpc_without_opt_in_always_drops() {
    let signals = |opted_in, gpc| VisitorSignals { opted_in, gpc };
    for mode in [WithoutConsent::Drop, WithoutConsent::Anonymous] {
        assert_eq!(decide(signals(true, false), mode), Verdict::Forward);
        assert_eq!(decide(signals(true, true), mode), Verdict::Forward);
        assert_eq!(
            decide(signals(false, true), mode),
            Verdict::Drop(DropReason::GlobalPrivacyControl)
        );
    }
    assert_eq!(
        decide(signals(false, false), WithoutConsent::Drop),
        Verdict::Drop(DropReason::NoConsent)
    );
    assert_eq!(
        decide(signals(false, false), WithoutConsent::Anonymous),
        Verdict::Anonymise
    );
}
