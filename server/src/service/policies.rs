//! Published policy versions: publishing (immutably) and the cached view every request reads.

use crate::domain::{PolicyRecord, PublishOutcome, banner_text_hash};
use crate::infra::clock::Clock;
use crate::storage::{PolicyStore, StorageError};
use app::domain::language::SUPPORTED_LANGUAGES;
use app::domain::policy::PolicyError;
use app::domain::{IdentifierKind, Policy, PolicyView, PublishedVersion};
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// A published version with its parsed policy.
#[derive(Debug, Clone)]
pub struct PublishedPolicy {
    pub record: PolicyRecord,
    pub policy: Arc<Policy>,
    /// What the banner shows in each language, worked out once per version: every status
    /// answer carries a view and every decision the hash of the one shown.
    shown: Arc<OnceLock<ShownViews>>,
}

/// The views of one version under one cookie domain (the service's, fixed by configuration).
#[derive(Debug)]
struct ShownViews {
    parent_domain: Option<String>,
    by_language: BTreeMap<&'static str, Shown>,
}

/// The policy as the banner shows it in one language, with the hash recorded as proof.
#[derive(Debug, Clone)]
pub struct Shown {
    pub view: PolicyView,
    pub banner_text_hash: String,
}

impl Shown {
    fn of(policy: &Policy, language: &str, parent_domain: Option<&str>) -> Self {
        let view = policy.view(language, parent_domain);
        Self {
            banner_text_hash: banner_text_hash(&view),
            view,
        }
    }
}

impl PublishedPolicy {
    pub fn new(record: PolicyRecord, policy: Policy) -> Self {
        Self {
            record,
            policy: Arc::new(policy),
            shown: Arc::default(),
        }
    }

    /// The policy as shown in `language` (one of the supported languages; others fall back as
    /// [`Policy::view`] does) on pages whose cookies belong to `parent_domain`.
    pub fn shown(&self, language: &str, parent_domain: Option<&str>) -> Cow<'_, Shown> {
        let views = self.shown.get_or_init(|| ShownViews {
            parent_domain: parent_domain.map(str::to_owned),
            by_language: SUPPORTED_LANGUAGES
                .iter()
                .map(|&language| (language, Shown::of(&self.policy, language, parent_domain)))
                .collect(),
        });
        match views.by_language.get(language) {
            Some(shown) if views.parent_domain.as_deref() == parent_domain => Cow::Borrowed(shown),
            // Another domain or language than cached (never in one service): worked out anew.
            _ => Cow::Owned(Shown::of(&self.policy, language, parent_domain)),
        }
    }
}

/// Every published version, oldest first; the last one is current.
#[derive(Debug)]
pub struct PolicySnapshot {
    versions: Vec<PublishedPolicy>,
    history: Vec<PublishedVersion>,
}

impl PolicySnapshot {
    fn new(records: Vec<PolicyRecord>) -> Result<Self, StorageError> {
        let versions = records
            .into_iter()
            .map(|record| {
                let policy = Policy::from_toml(&record.source).map_err(|err| {
                    StorageError::Corrupt(format!("published policy {}: {err}", record.version))
                })?;
                Ok(PublishedPolicy::new(record, policy))
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        if versions.is_empty() {
            return Err(StorageError::Corrupt(
                "no policy version is published".to_owned(),
            ));
        }
        let history = versions
            .iter()
            .enumerate()
            .map(|(index, published)| {
                let mut version = published.record.published_version();
                if let Some(earlier) = index.checked_sub(1).map(|before| &versions[before]) {
                    version.changed_jurisdictions =
                        PublishedVersion::changed_jurisdictions(&earlier.policy, &published.policy);
                }
                version
            })
            .collect();
        Ok(Self { versions, history })
    }

    pub fn current(&self) -> &PublishedPolicy {
        self.versions.last().expect("a snapshot is never empty")
    }

    pub fn find(&self, version: &str) -> Option<&PublishedPolicy> {
        self.versions
            .iter()
            .find(|p| p.record.version.as_str() == version)
    }

    pub fn history(&self) -> &[PublishedVersion] {
        &self.history
    }

    /// The versions a choice may have been made on without being asked again: the latest
    /// material version and every one published after it, oldest first.
    pub fn still_valid(&self) -> &[PublishedPolicy] {
        let since_material = self
            .versions
            .iter()
            .rposition(|published| published.record.material)
            .unwrap_or(0);
        &self.versions[since_material..]
    }

    /// Whether any still-valid version's registry lists the cookie or storage key `name` of
    /// `kind`: a page may hold what a visitor's choice on any of them covers.
    pub fn declares(&self, kind: IdentifierKind, name: &str) -> bool {
        self.still_valid().iter().any(|published| {
            published
                .policy
                .categories
                .iter()
                .flat_map(|category| &category.identifiers)
                .any(|identifier| identifier.kind == kind && identifier.matches(name))
        })
    }

    pub fn records(&self) -> impl Iterator<Item = &PolicyRecord> {
        self.versions.iter().map(|p| &p.record)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Invalid(#[from] PolicyError),
    #[error(
        "version {version:?} is already published with different content ({existing}); a published version never changes: publish the new content under a new version"
    )]
    Conflict { version: String, existing: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a successful publish did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    New(PolicyRecord),
    /// Identical content was already published under this version: nothing changed.
    Unchanged(PolicyRecord),
}

impl Published {
    pub fn record(&self) -> &PolicyRecord {
        match self {
            Self::New(record) | Self::Unchanged(record) => record,
        }
    }
}

/// Checks a policy file and stores it as a new published version.
pub async fn publish(
    storage: &dyn PolicyStore,
    source: &str,
    material: bool,
    now: DateTime<Utc>,
) -> Result<Published, PublishError> {
    let policy = Policy::from_toml(source)?;
    let record = PolicyRecord::new(&policy, source.to_owned(), material, now);
    match storage.publish_policy(&record).await? {
        PublishOutcome::Published => {
            tracing::info!(
                event = "policy_published",
                version = %record.version,
                hash = %record.hash,
                material,
            );
            Ok(Published::New(record))
        }
        PublishOutcome::AlreadyPublished(existing) => Ok(Published::Unchanged(existing)),
        PublishOutcome::Conflict(existing) => Err(PublishError::Conflict {
            version: existing.version.to_string(),
            existing: existing.hash,
        }),
    }
}

/// How long a request waits for the published versions to be reread before it goes on with
/// the cached ones.
const REREAD_WAIT: Duration = Duration::from_millis(200);

/// The published versions as this instance last read them. Reread every `refresh_every`, so
/// a version published elsewhere (another instance, the CLI) reaches every instance.
pub struct PolicyRegistry {
    storage: Arc<dyn PolicyStore>,
    snapshot: RwLock<Arc<PolicySnapshot>>,
    loaded_at: Mutex<Instant>,
    refresh_every: Duration,
    clock: Clock,
    /// Held by the one request rereading the versions; the others answer from the cache.
    refreshing: tokio::sync::Mutex<()>,
}

impl PolicyRegistry {
    /// Reads the published versions; publishes `bootstrap` first when there are none.
    pub async fn open(
        storage: Arc<dyn PolicyStore>,
        bootstrap: &str,
        refresh_every: Duration,
        clock: Clock,
    ) -> Result<Self, PublishError> {
        if storage.policy_versions().await?.is_empty() {
            publish(storage.as_ref(), bootstrap, true, clock.now()).await?;
        }
        let snapshot = PolicySnapshot::new(storage.policy_versions().await?)?;
        Ok(Self {
            storage,
            snapshot: RwLock::new(Arc::new(snapshot)),
            loaded_at: Mutex::new(Instant::now()),
            refresh_every,
            clock,
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// The cached versions, without touching storage.
    pub fn cached(&self) -> Arc<PolicySnapshot> {
        Arc::clone(&self.snapshot.read().expect("policy cache lock"))
    }

    /// The versions, reread first when the cache is older than the refresh period: by one
    /// request at a time (the others answer from the cache meanwhile). A storage failure keeps
    /// the last good versions (and is logged) and is not retried before another period: while
    /// storage is down, pages, the loader and the gate answer from the cache without waiting.
    pub async fn current(&self) -> Arc<PolicySnapshot> {
        let stale =
            || self.loaded_at.lock().expect("policy cache lock").elapsed() >= self.refresh_every;
        if stale()
            && let Ok(_rereading) = self.refreshing.try_lock()
            && stale()
        {
            // A healthy database answers in milliseconds; an unreachable one must not hold the
            // request that happened to come first.
            let failed = match tokio::time::timeout(REREAD_WAIT, self.reload()).await {
                Ok(Ok(())) => None,
                Ok(Err(err)) => Some(err.to_string()),
                Err(_) => Some(format!("no answer within {REREAD_WAIT:?}")),
            };
            if let Some(err) = failed {
                tracing::warn!(error = %err, "could not reread published policy versions");
                *self.loaded_at.lock().expect("policy cache lock") = Instant::now();
            }
        }
        self.cached()
    }

    pub async fn reload(&self) -> Result<(), StorageError> {
        let records = self.storage.policy_versions().await?;
        // Unchanged versions keep their snapshot, and with it the views worked out for them.
        if !self.cached().records().eq(records.iter()) {
            let snapshot = PolicySnapshot::new(records)?;
            *self.snapshot.write().expect("policy cache lock") = Arc::new(snapshot);
        }
        *self.loaded_at.lock().expect("policy cache lock") = Instant::now();
        Ok(())
    }

    /// Publishes through this instance, which sees the new version at once.
    pub async fn publish(&self, source: &str, material: bool) -> Result<Published, PublishError> {
        let published = publish(self.storage.as_ref(), source, material, self.clock.now()).await?;
        self.reload().await?;
        Ok(published)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published() -> PublishedPolicy {
        let policy = Policy::from_toml(app::DEFAULT_POLICY_TOML).expect("the default policy");
        let record = PolicyRecord {
            version: policy.version.clone(),
            hash: crate::domain::policy_hash(&policy),
            material: true,
            published_at: chrono::DateTime::UNIX_EPOCH,
            source: app::DEFAULT_POLICY_TOML.to_owned(),
        };
        PublishedPolicy::new(record, policy)
    }

    #[test]
    fn the_views_worked_out_once_are_the_views_of_the_policy() {
        let published = published();
        for domain in [Some("zeccloud.com"), None] {
            for language in SUPPORTED_LANGUAGES.into_iter().chain(["de"]) {
                let expected = published.policy.view(language, domain);
                let shown = published.shown(language, domain);
                assert_eq!(shown.banner_text_hash, banner_text_hash(&expected));
                assert_eq!(shown.view, expected, "{language} {domain:?}");
            }
        }
        // The first domain asked for is the one cached; the supported languages are borrowed.
        assert!(matches!(
            published.shown("ja", Some("zeccloud.com")),
            Cow::Borrowed(_)
        ));
        assert!(matches!(published.shown("ja", None), Cow::Owned(_)));
        assert!(matches!(
            published.shown("de", Some("zeccloud.com")),
            Cow::Owned(_)
        ));
    }
}
