//! Published policy versions and the hashes that make them and the banner text provable.

use app::domain::{Policy, PolicyVersion, PolicyView, PublishedVersion};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// A policy version as stored when it was published; never changed afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    pub version: PolicyVersion,
    /// [`policy_hash`] of the parsed policy.
    pub hash: String,
    pub material: bool,
    pub published_at: DateTime<Utc>,
    /// The TOML exactly as published.
    pub source: String,
}

impl PolicyRecord {
    pub fn new(policy: &Policy, source: String, material: bool, now: DateTime<Utc>) -> Self {
        Self {
            version: policy.version.clone(),
            hash: policy_hash(policy),
            material,
            published_at: now,
            source,
        }
    }

    pub fn published_version(&self) -> PublishedVersion {
        PublishedVersion {
            version: self.version.to_string(),
            published_at: self.published_at.timestamp(),
            material: self.material,
            // Known only beside the version before it: the snapshot fills it in.
            changed_jurisdictions: Vec::new(),
        }
    }
}

/// The outcome of publishing: a version id is bound to one content forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    Published,
    /// The same content was published before under this version: nothing changes.
    AlreadyPublished(PolicyRecord),
    /// Different content was published before under this version: refused.
    Conflict(PolicyRecord),
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Hash of the policy's content, not of its file: comments and layout do not change it, any
/// text, category or identifier does. Its JSON form is deterministic (maps are sorted).
pub fn policy_hash(policy: &Policy) -> String {
    sha256_hex(&serde_json::to_vec(policy).expect("a policy serialises to JSON"))
}

/// Hash of everything the banner showed in one language: its texts, the categories and the
/// identifiers listed under them.
pub fn banner_text_hash(view: &PolicyView) -> String {
    let shown = serde_json::json!({
        "language": view.language,
        "banner": view.banner,
        "categories": view.categories,
    });
    sha256_hex(&serde_json::to_vec(&shown).expect("a policy view serialises to JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_policy() -> Policy {
        Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap()
    }

    #[test]
    fn layout_and_comments_do_not_change_the_hash() {
        let policy = default_policy();
        let reformatted = format!("# a comment\n\n{}\n\n", app::DEFAULT_POLICY_TOML);
        assert_eq!(
            policy_hash(&policy),
            policy_hash(&Policy::from_toml(&reformatted).unwrap())
        );
        assert!(policy_hash(&policy).starts_with("sha256:"));
        assert_eq!(policy_hash(&policy).len(), 7 + 64);
    }

    #[test]
    fn any_text_changes_the_hash() {
        let policy = default_policy();
        let mut changed = policy.clone();
        changed.categories[2].identifiers[0]
            .purpose
            .insert("en".into(), "other".into());
        assert_ne!(policy_hash(&policy), policy_hash(&changed));
    }

    #[test]
    fn banner_hash_depends_on_the_language_shown() {
        let mut policy = default_policy();
        let mut japanese = policy.banner["en"].clone();
        japanese.title = "プライバシーの選択".into();
        policy.banner.insert("ja".into(), japanese);
        let en = banner_text_hash(&policy.view("en", None));
        assert_eq!(en, banner_text_hash(&policy.view("en", None)));
        assert_ne!(en, banner_text_hash(&policy.view("ja", None)));
    }

    /// Version 2026-11-27 as it was published, before the regimes' banner texts and Korea's
    /// collection details existed, with the hash the service computed for it then: optional
    /// fields left out must keep every earlier version's hash (and its receipts) provable.
    #[test]
    fn versions_published_before_the_optional_texts_keep_their_hash() {
        let earlier =
            Policy::from_toml(include_str!("../../tests/fixtures/policy-2026-11-27.toml")).unwrap();
        assert_eq!(
            policy_hash(&earlier),
            "sha256:8ae6c310e923784cf670abf2e45f6ba197d0677658cdc7503705b0e2498ca8f4"
        );
        let shown = serde_json::to_string(&earlier.view("ko", None)).unwrap();
        for added in [
            "opt_out",
            "notice_body",
            "acknowledge",
            "\"items\"",
            "refusal",
        ] {
            assert!(!shown.contains(added), "{added} in {shown}");
        }
    }
}
