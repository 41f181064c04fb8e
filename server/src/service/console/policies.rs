//! The policies page: the published versions, a diff between two of them, an uploaded file
//! checked and compared with the current version, and publishing it.

use super::ConsoleService;
use crate::domain::policy_diff;
use crate::service::policies::{PolicySnapshot, PublishError, Published};
use crate::storage::StorageError;
use app::console::{Notice, PendingPublish, PoliciesPage, PolicyDiff, VersionRow};
use app::domain::Policy;

/// What a look at the policies page, or one of its forms, came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyOutcome {
    /// The page as asked for: the versions, a diff, an uploaded file compared.
    Shown,
    /// A new version is published.
    Published,
    /// The version was already published with this content: nothing changed.
    Unchanged,
    /// A version to compare is not published.
    UnknownVersion,
    /// The version is already published with other content.
    Conflict,
    /// The file is not a valid policy.
    Invalid,
}

impl ConsoleService {
    /// The published versions and, with `diff` (`from`, `to`), what changed between two.
    pub async fn policies(&self, diff: Option<(String, String)>) -> (PoliciesPage, PolicyOutcome) {
        let snapshot = self.policies.current().await;
        let mut page = versions(&snapshot);
        let Some((from, to)) = diff else {
            return (page, PolicyOutcome::Shown);
        };
        match (snapshot.find(&from), snapshot.find(&to)) {
            (Some(before), Some(after)) => {
                page.diff = Some(PolicyDiff {
                    changes: policy_diff::diff(&before.policy, &after.policy),
                    from,
                    to,
                });
                (page, PolicyOutcome::Shown)
            }
            _ => {
                page.notice = error_notice(format!("{from} or {to} is not a published version."));
                (page, PolicyOutcome::UnknownVersion)
            }
        }
    }

    /// An uploaded policy file checked as the command line checks it and compared with the
    /// current version, to be confirmed; publishes nothing.
    pub async fn preview_policy(
        &self,
        source: String,
        material: bool,
    ) -> (PoliciesPage, PolicyOutcome) {
        let snapshot = self.policies.current().await;
        let mut page = versions(&snapshot);
        match Policy::from_toml(&source) {
            Err(invalid) => {
                page.notice = error_notice(format!("The file is not a valid policy: {invalid}"));
                (page, PolicyOutcome::Invalid)
            }
            Ok(uploaded) => {
                let current = snapshot.current();
                page.diff = Some(PolicyDiff {
                    from: current.record.version.to_string(),
                    to: format!("{} (uploaded)", uploaded.version),
                    changes: policy_diff::diff(&current.policy, &uploaded),
                });
                page.pending = Some(PendingPublish {
                    version: uploaded.version.to_string(),
                    source,
                    material,
                });
                (page, PolicyOutcome::Shown)
            }
        }
    }

    /// Publishes `source` with the same checks as the command line and the admin API, and says
    /// how that went above the versions.
    pub async fn publish_policy(
        &self,
        source: &str,
        material: bool,
    ) -> Result<(PoliciesPage, PolicyOutcome), StorageError> {
        let (outcome, notice) = match self.policies.publish(source, material).await {
            Ok(Published::New(record)) => (
                PolicyOutcome::Published,
                Notice {
                    error: false,
                    text: format!(
                        "Version {} is published{}.",
                        record.version,
                        if material {
                            " as a material change: visitors are asked again"
                        } else {
                            ""
                        }
                    ),
                },
            ),
            Ok(Published::Unchanged(record)) => (
                PolicyOutcome::Unchanged,
                Notice {
                    error: false,
                    text: format!(
                        "Version {} was already published with this content.",
                        record.version
                    ),
                },
            ),
            Err(PublishError::Storage(err)) => return Err(err),
            Err(refused) => (
                if matches!(refused, PublishError::Conflict { .. }) {
                    PolicyOutcome::Conflict
                } else {
                    PolicyOutcome::Invalid
                },
                Notice {
                    error: true,
                    text: refused.to_string(),
                },
            ),
        };
        let mut page = versions(&*self.policies.current().await);
        page.notice = Some(notice);
        Ok((page, outcome))
    }
}

/// The published versions, as the policies page lists them.
fn versions(snapshot: &PolicySnapshot) -> PoliciesPage {
    PoliciesPage {
        versions: snapshot
            .records()
            .map(|record| VersionRow {
                version: record.version.to_string(),
                published_at: record.published_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                hash: record.hash.clone(),
                material: record.material,
            })
            .collect(),
        ..PoliciesPage::default()
    }
}

fn error_notice(text: impl Into<String>) -> Option<Notice> {
    Some(Notice {
        error: true,
        text: text.into(),
    })
}
