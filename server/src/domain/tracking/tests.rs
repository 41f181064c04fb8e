use super::*;

fn hit(query: &str) -> TrackingHit {
    TrackingHit::parse(query).unwrap()
}

/// The upstream rule written plainly, parameter by parameter: what
/// [`TrackingHit::upstream_query`] must encode.
fn for_upstream(hit: &TrackingHit, visitor: &UpstreamFields<'_>) -> TrackingHit {
    let mut hit = hit.clone();
    hit.remove(|key| PRIVILEGED_PARAMS.contains(&key));
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

/// The hit as the gate sends it, read back.
fn sent(original: &TrackingHit, visitor: &UpstreamFields<'_>) -> TrackingHit {
    hit(&original.upstream_query(visitor))
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
        custom_variables: BTreeSet::from(["email".to_owned()]),
    };
    let original = hit(
        "idsite=1&rec=1&url=https%3A%2F%2Fwww.zeccloud.com%2F&_id=0123456789abcdef&cid=0123456789abcdef\
         &uid=alice&_idn=0&_idts=1700000000&_idvc=4&_viewts=1700000100&_refts=1700000000\
         &_ref=https%3A%2F%2Fsearch.example%2F&_rcn=spring&_rck=kw&_ects=1700000000\
         &dimension1=pro&dimension2=alice%40example.com&cookie=1&res=1280x720\
         &_cvar=%7B%221%22%3A%5B%22plan%22%2C%22pro%22%5D%2C%222%22%3A%5B%22email%22%2C%22a%40b.c%22%5D%7D",
    );
    let anonymous = original.anonymised(&personal);
    for key in IDENTIFIER_PARAMS {
        assert_eq!(anonymous.get(key), None, "{key} must be removed");
    }
    assert_eq!(anonymous.get("dimension2"), None);
    assert_eq!(anonymous.get("dimension1"), Some("pro"));
    assert_eq!(anonymous.get("cookie"), Some("0"));
    assert_eq!(anonymous.get("res"), Some("1280x720"));
    assert_eq!(anonymous.get("url"), Some("https://www.zeccloud.com/"));
    assert_eq!(anonymous.get("_cvar"), Some(r#"{"1":["plan","pro"]}"#));
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
fn unreadable_or_wholly_personal_custom_variables_are_removed() {
    let personal = PersonalFields {
        dimensions: BTreeSet::new(),
        custom_variables: BTreeSet::from(["email".to_owned()]),
    };
    let broken = hit("idsite=1&rec=1&cvar=not-json").anonymised(&personal);
    assert_eq!(broken.get("cvar"), None);
    let only_personal = hit("idsite=1&rec=1&_cvar=%7B%221%22%3A%5B%22email%22%2C%22x%22%5D%7D")
        .anonymised(&personal);
    assert_eq!(only_personal.get("_cvar"), None);
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
    let consented = self::sent(
        &hit("idsite=1&rec=1&cid=ffffffffffffffff"),
        &UpstreamFields {
            visitor_id: Some("0123456789abcdef"),
            ..UpstreamFields::default()
        },
    );
    assert_eq!(
        consented
            .params()
            .iter()
            .filter(|(k, _)| k == "cid")
            .count(),
        1
    );
    assert_eq!(consented.get("cid"), Some("0123456789abcdef"));
    assert_eq!(
        with_ip.get("ua"),
        Some("spoofed"),
        "kept when no header is known"
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
        "idsite=1&rec=1&cid=ffffffffffffffff&cid=eeeeeeeeeeeeeeee&ua=a&ua=b",
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
    let hits = vec![hit("idsite=1&rec=1&cip=1.2.3.0")];
    let body: serde_json::Value =
        serde_json::from_str(&upstream_body(&hits, Some("secret"))).unwrap();
    assert_eq!(body["token_auth"], "secret");
    assert_eq!(body["requests"][0], "?idsite=1&rec=1&cip=1.2.3.0");
    let without: serde_json::Value = serde_json::from_str(&upstream_body(&hits, None)).unwrap();
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
