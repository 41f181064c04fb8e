//! What the Matomo gate reads: a tracking query or form body (`TrackingHit::parse`), or a bulk
//! JSON body (`BulkRequest::parse`), told apart by content as the gate does; then what it
//! forwards, with and without consent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use server::domain::tracking::{
    BulkRequest, GATE_PARAMS, HitError, IDENTIFIER_PARAMS, PersonalFields, TrackingHit, UpstreamFields, is_bulk,
};

fuzz_target!(|body: &[u8]| {
    if is_bulk(body) {
        if let Ok(bulk) = BulkRequest::parse(body) {
            bulk.hits.iter().for_each(forward);
            let queries: Vec<String> = bulk.hits.iter().map(TrackingHit::to_query).collect();
            let upstream = BulkRequest::body_of_queries(&queries, Some("token"));
            if let Err(err) = BulkRequest::parse(upstream.as_bytes()) {
                // Re-encoding may only lengthen a hit past the limit.
                assert!(
                    matches!(&err, HitError::BulkEntry { reason, .. } if **reason == HitError::TooLong),
                    "{err}"
                );
            }
        }
    } else if let Ok(query) = std::str::from_utf8(body)
        && let Ok(hit) = TrackingHit::parse(query)
    {
        forward(&hit);
    }
});

/// A parsed hit as sent upstream with consent, and stripped without it.
fn forward(hit: &TrackingHit) {
    let _ = hit.wants_image();
    let personal = PersonalFields {
        dimensions: [1, 3].into(),
    };
    for (key, _) in hit.params() {
        assert!(!GATE_PARAMS.contains(&key.as_str()), "{key} taken from a visitor");
    }
    let anonymous = hit.anonymised(&personal);
    for (key, _) in anonymous.params() {
        assert!(!IDENTIFIER_PARAMS.contains(&key.as_str()), "{key} left in");
        assert!(key != "dimension1" && key != "dimension3", "{key} left in");
    }
    let upstream = hit.upstream_query(&UpstreamFields {
        user_agent: Some("Mozilla/5.0"),
        accept_language: Some("en"),
        cip: Some("192.0.2.0"),
        visitor_id: Some("0123456789abcdef"),
    });
    for forwarded in [anonymous.to_query(), upstream] {
        match TrackingHit::parse(&forwarded) {
            Ok(_) | Err(HitError::TooLong) => {}
            Err(err) => panic!("a forwarded hit does not parse again: {err}"),
        }
    }
}
