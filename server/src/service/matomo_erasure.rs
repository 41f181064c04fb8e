//! Carrying an erasure through to Matomo (notice §07) with its HTTP Reporting API:
//! `PrivacyManager.findDataSubjects` for the visitor id every consented hit carried, then
//! `PrivacyManager.deleteDataSubjects` with the visits found, repeated while Matomo finds more
//! (one answer holds at most 401). Jobs live in storage and are retried with back-off until they
//! succeed or a human looks, so a Matomo that is down loses nothing, restarts included.

use crate::infra::clock::Clock;
use crate::infra::metrics::Metrics;
use crate::storage::{JobSelection, MatomoJob, MatomoJobStore, StorageError};
use chrono::TimeDelta;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Find-and-delete rounds per site before a job gives up on this attempt (401 visits each).
const MAX_ROUNDS: usize = 100;
/// How often each instance looks for due jobs.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How long a claimed job is this instance's before another may take it over.
const LEASE: TimeDelta = TimeDelta::minutes(5);

/// Matomo's Reporting API, with a token whose user has admin access to `sites`.
pub struct MatomoPrivacyApi {
    client: reqwest::Client,
    url: reqwest::Url,
    token: SecretString,
    sites: Vec<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum MatomoApiError {
    #[error("cannot reach Matomo: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("Matomo answered {0}")]
    Status(u16),
    #[error("Matomo said: {0}")]
    Refused(String),
    #[error("Matomo kept finding visits after {MAX_ROUNDS} rounds")]
    Endless,
}

/// A visit as `findDataSubjects` lists it.
#[derive(Debug, Deserialize)]
struct FoundVisit {
    #[serde(rename = "idSite")]
    id_site: serde_json::Value,
    #[serde(rename = "idVisit")]
    id_visit: serde_json::Value,
}

impl MatomoPrivacyApi {
    pub fn new(
        url: reqwest::Url,
        token: SecretString,
        sites: Vec<u32>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("zeccloud-consent/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            url,
            token,
            sites,
        })
    }

    /// One API call: `method` with `params`, the token in the POST body (never in a URL).
    async fn call(
        &self,
        method: &str,
        params: &[(String, String)],
    ) -> Result<serde_json::Value, MatomoApiError> {
        let mut form: Vec<(String, String)> = vec![
            ("module".into(), "API".into()),
            ("method".into(), format!("PrivacyManager.{method}")),
            ("format".into(), "JSON".into()),
            ("token_auth".into(), self.token.expose_secret().to_owned()),
        ];
        form.extend(params.iter().cloned());
        let response = self
            .client
            .post(self.url.clone())
            .form(&form)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(MatomoApiError::Status(response.status().as_u16()));
        }
        let answer: serde_json::Value = response.json().await?;
        if answer.get("result").and_then(|r| r.as_str()) == Some("error") {
            let message = answer["message"].as_str().unwrap_or("an error").to_owned();
            return Err(MatomoApiError::Refused(message));
        }
        Ok(answer)
    }

    /// Deletes every visit of `visitor_id` on every configured site; Matomo's counts per table.
    pub async fn erase_visitor(
        &self,
        visitor_id: &str,
    ) -> Result<BTreeMap<String, u64>, MatomoApiError> {
        let mut deleted = BTreeMap::new();
        for site in &self.sites {
            let mut rounds = 0;
            loop {
                let found = self
                    .call(
                        "findDataSubjects",
                        &[
                            ("idSite".into(), site.to_string()),
                            ("segment".into(), format!("visitorId=={visitor_id}")),
                        ],
                    )
                    .await?;
                let visits: Vec<FoundVisit> = serde_json::from_value(found)
                    .map_err(|err| MatomoApiError::Refused(format!("unexpected answer: {err}")))?;
                if visits.is_empty() {
                    break;
                }
                rounds += 1;
                if rounds > MAX_ROUNDS {
                    return Err(MatomoApiError::Endless);
                }
                // `deleteDataSubjects` wants lowercase keys, PHP form syntax.
                let text = |value: &serde_json::Value| match value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                let params: Vec<(String, String)> = visits
                    .iter()
                    .enumerate()
                    .flat_map(|(index, visit)| {
                        [
                            (format!("visits[{index}][idsite]"), text(&visit.id_site)),
                            (format!("visits[{index}][idvisit]"), text(&visit.id_visit)),
                        ]
                    })
                    .collect();
                let counts = self.call("deleteDataSubjects", &params).await?;
                if let Some(counts) = counts.as_object() {
                    for (table, rows) in counts {
                        *deleted.entry(table.clone()).or_insert(0) += rows.as_u64().unwrap_or(0);
                    }
                }
            }
        }
        Ok(deleted)
    }
}

/// The worker that runs erasure jobs against Matomo, in every instance; a job is claimed for
/// a lease, so two instances never run one at once.
pub struct MatomoEraser {
    storage: Arc<dyn MatomoJobStore>,
    api: MatomoPrivacyApi,
    clock: Clock,
    retry_base: TimeDelta,
    max_attempts: u32,
    metrics: Arc<Metrics>,
}

impl MatomoEraser {
    pub fn new(
        storage: Arc<dyn MatomoJobStore>,
        api: MatomoPrivacyApi,
        clock: Clock,
        retry_base: Duration,
        max_attempts: u32,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            storage,
            api,
            clock,
            retry_base: TimeDelta::from_std(retry_base).unwrap_or(TimeDelta::seconds(30)),
            max_attempts,
            metrics,
        }
    }

    pub fn spawn(self: &Arc<Self>) {
        let eraser = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(POLL_EVERY);
            loop {
                ticks.tick().await;
                let Some(eraser) = eraser.upgrade() else {
                    return;
                };
                if let Err(err) = eraser.run_due().await {
                    tracing::warn!(error = %err, "Matomo erasure jobs not run; retrying");
                }
            }
        });
    }

    /// Runs every due job this instance can claim.
    pub async fn run_due(&self) -> Result<(), StorageError> {
        let now = self.clock.now();
        self.metrics
            .matomo_jobs(&self.storage.matomo_job_counts().await?);
        for job in self.storage.matomo_jobs(JobSelection::DueBy(now)).await? {
            if self
                .storage
                .claim_matomo_job(job.erasure_id, now, now + LEASE)
                .await?
            {
                self.attempt(job).await?;
            }
        }
        Ok(())
    }

    async fn attempt(&self, job: MatomoJob) -> Result<(), StorageError> {
        let attempts = job.attempts + 1;
        let visitor_id = job.visitor_id.clone().unwrap_or_default();
        match self.api.erase_visitor(&visitor_id).await {
            Ok(deleted) => {
                self.metrics.matomo_job_attempt("done");
                tracing::info!(event = "matomo_erasure_done", erasure_id = %job.erasure_id, ?deleted);
                self.storage
                    .finish_matomo_job(job.erasure_id, &deleted, self.clock.now())
                    .await
            }
            Err(err) => {
                let give_up = attempts >= self.max_attempts;
                self.metrics
                    .matomo_job_attempt(if give_up { "failed" } else { "retry" });
                tracing::warn!(
                    event = "matomo_erasure_failed",
                    erasure_id = %job.erasure_id,
                    attempts,
                    give_up,
                    error = %err
                );
                // Doubling from `retry_base`, at most six hours apart.
                let backoff = (self.retry_base * 2_i32.saturating_pow(attempts.min(16) - 1))
                    .min(TimeDelta::hours(6));
                let now = self.clock.now();
                self.storage
                    .retry_matomo_job(
                        job.erasure_id,
                        attempts,
                        now + backoff,
                        &err.to_string(),
                        give_up,
                        now,
                    )
                    .await
            }
        }
    }
}

pub use crate::storage::MatomoJobState;
