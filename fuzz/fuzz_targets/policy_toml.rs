//! Policy files (`server policy publish FILE`, `POST /api/v1/admin/policies`, `policy_file`):
//! loaded and checked, then everything publishing and showing a loaded policy does with it —
//! its hash, its view in every language, the banner text hash and the console's diff.

#![no_main]

use app::domain::Policy;
use app::domain::language::SUPPORTED_LANGUAGES;
use libfuzzer_sys::fuzz_target;
use server::domain::policy_diff::diff;
use server::domain::{PolicyRecord, banner_text_hash};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::from_toml(source) else {
        return;
    };
    let record = PolicyRecord::new(&policy, source.to_owned(), false, chrono::Utc::now());
    let _ = record.published_version();
    let languages = SUPPORTED_LANGUAGES
        .into_iter()
        .chain([policy.default_language.as_str(), "xx"]);
    for language in languages {
        for parent in [Some("zeccloud.com"), None] {
            let view = policy.view(language, parent);
            assert_eq!(view.categories.len(), policy.categories.len());
            let _ = banner_text_hash(&view);
        }
    }
    let ids: Vec<&str> = policy.categories.iter().map(|c| c.id.as_str()).collect();
    let _ = policy.identifiers_of(ids);
    let default = server_fuzz::policy();
    let _ = (diff(default, &policy), diff(&policy, default));
    assert!(diff(&policy, &policy).is_empty());
});
