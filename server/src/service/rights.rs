//! The visitor's rights (notice §07): access to everything stored under their SSAID, and
//! erasure of it, leaving evidence but not the data. Consent ids that were erased or withdrawn
//! are revoked: their signed cookies (a copy in a script, a second tab) are no longer honoured.

use super::ConsentService;
use crate::domain::rights::{ErasureChannel, ErasureRecord, matomo_visitor_id, subject_hash};
use crate::domain::risk::Sighting;
use crate::domain::{Ssaid, TerminalType};
use crate::storage::{ConsentEvent, StorageError, SubjectStore};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use uuid::Uuid;

/// Consent ids no longer honoured, as last read from storage (every instance's revocations)
/// plus this instance's own since then.
#[derive(Debug, Default)]
pub struct RevokedConsents {
    ids: RwLock<HashSet<Uuid>>,
}

impl RevokedConsents {
    pub fn contains(&self, event_id: &str) -> bool {
        Uuid::parse_str(event_id).is_ok_and(|id| {
            self.ids
                .read()
                .expect("revoked consents lock")
                .contains(&id)
        })
    }

    fn insert(&self, ids: impl IntoIterator<Item = Uuid>) {
        self.ids.write().expect("revoked consents lock").extend(ids);
    }

    /// Rereads the list every `every` (at least a second); ends with the service.
    pub fn spawn_refresh(
        self: &Arc<Self>,
        storage: Arc<dyn SubjectStore>,
        every: Duration,
        clock: crate::infra::clock::Clock,
    ) {
        let revoked = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every.max(Duration::from_secs(1)));
            loop {
                ticks.tick().await;
                let Some(revoked) = revoked.upgrade() else {
                    return;
                };
                match storage.revoked_consents(clock.now()).await {
                    Ok(ids) => {
                        *revoked.ids.write().expect("revoked consents lock") =
                            ids.into_iter().collect();
                    }
                    Err(err) => tracing::warn!(error = %err, "cannot reread revoked consents"),
                }
            }
        });
    }
}

/// The stored SSAID record, as access shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IdentifierData {
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{22}$")]
    pub ssaid: Ssaid,
    pub issued_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<TerminalType>)]
    pub terminal_type: Option<&'static str>,
    /// Whether a record is stored: only once the visitor decided.
    pub stored: bool,
}

/// One decision with its proof fields, as access shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionData {
    pub id: Uuid,
    pub policy_version: String,
    pub categories: BTreeMap<String, bool>,
    #[schema(value_type = app::domain::ConsentAction)]
    pub action: &'static str,
    #[schema(value_type = app::domain::ConsentSource)]
    pub source: &'static str,
    pub created_at: DateTime<Utc>,
    /// When the visitor made a choice their page delivered late.
    pub made_at: Option<DateTime<Utc>>,
    pub policy_hash: String,
    pub banner_text_hash: String,
    pub language: String,
    pub ip_prefix: Option<String>,
    #[schema(value_type = TerminalType)]
    pub terminal_type: &'static str,
    pub origin: Option<String>,
    /// Where the decision was made; null for decisions recorded before jurisdictions existed.
    pub jurisdiction: Option<PlaceData>,
    /// The salt of the decision's leaf in the consent log (hex): with the decision, it is what
    /// the leaf commits to (docs/consent-log.md). Null for a decision written before the log.
    pub log_salt: Option<String>,
}

/// The jurisdiction a decision was made in, as access shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlaceData {
    /// The policy's jurisdiction, or `default`.
    pub name: String,
    pub regime: app::domain::Regime,
    #[schema(pattern = "^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
    pub country: Option<String>,
    pub source: app::domain::CountrySource,
}

impl From<ConsentEvent> for DecisionData {
    fn from(event: ConsentEvent) -> Self {
        Self {
            id: event.id,
            policy_version: event.policy_version.to_string(),
            categories: event.categories,
            action: event.action.as_str(),
            source: event.source.as_str(),
            created_at: event.created_at,
            made_at: event.made_at,
            policy_hash: event.policy_hash,
            banner_text_hash: event.banner_text_hash,
            language: event.language,
            ip_prefix: event.ip_prefix,
            terminal_type: event.ua_class.as_str(),
            origin: event.origin,
            jurisdiction: event.jurisdiction.map(|place| PlaceData {
                name: place.name,
                regime: place.regime,
                country: place.country,
                source: place.source,
            }),
            log_salt: event.log_salt,
        }
    }
}

/// One sighting of risk control, as access shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SightingData {
    pub network: String,
    #[schema(format = Date)]
    pub day: String,
    pub seen_count: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub service: String,
    pub event: String,
}

impl From<Sighting> for SightingData {
    fn from(sighting: Sighting) -> Self {
        Self {
            network: sighting.network,
            day: sighting.day.to_string(),
            seen_count: sighting.seen_count,
            first_seen: sighting.first_seen,
            last_seen: sighting.last_seen,
            service: sighting.last_service,
            event: sighting.last_event,
        }
    }
}

/// What Matomo may hold under the SSAID.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatomoData {
    /// The visitor id (`cid`) every hit forwarded with consent carries.
    pub visitor_id: String,
}

/// Everything stored under one SSAID.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubjectData {
    pub identifier: IdentifierData,
    pub consent_events: Vec<DecisionData>,
    pub sightings: Vec<SightingData>,
    pub matomo: MatomoData,
}

impl ConsentService {
    /// Everything the service holds under `ssaid`. `issued` is what the visitor's own token
    /// says, for an SSAID that is not stored yet.
    pub async fn subject(
        &self,
        ssaid: &Ssaid,
        issued: Option<(DateTime<Utc>, TerminalType)>,
    ) -> Result<SubjectData, StorageError> {
        let records = self.storage.subject_records(ssaid).await?;
        let stored = records.ssaid.is_some();
        let (issued_at, terminal_type) = match (records.ssaid, issued) {
            (Some(record), _) => (Some(record.issued_at), Some(record.terminal_type.as_str())),
            (None, Some((at, terminal))) => (Some(at), Some(terminal.as_str())),
            (None, None) => (None, None),
        };
        let consent_events = records
            .consent_events
            .into_iter()
            .map(DecisionData::from)
            .collect();
        let sightings = records
            .sightings
            .into_iter()
            .map(SightingData::from)
            .collect();
        Ok(SubjectData {
            identifier: IdentifierData {
                ssaid: ssaid.clone(),
                issued_at,
                terminal_type,
                stored,
            },
            consent_events,
            sightings,
            matomo: MatomoData {
                visitor_id: self.matomo_visitor_id(ssaid),
            },
        })
    }

    /// Matomo's visitor id for an SSAID (see `domain::rights`).
    pub fn matomo_visitor_id(&self, ssaid: &Ssaid) -> String {
        matomo_visitor_id(self.pseudonym_key.expose(), ssaid)
    }

    /// Erases everything stored under `ssaid`, revokes its consent ids and keeps the evidence.
    pub async fn erase(
        &self,
        ssaid: &Ssaid,
        channel: ErasureChannel,
    ) -> Result<Erasure, StorageError> {
        let hash = subject_hash(self.pseudonym_key.expose(), ssaid);
        let earlier = self.storage.erasures_of(&hash).await?;
        let draft = ErasureRecord {
            id: Uuid::now_v7(),
            erased_at: self.clock.now(),
            channel: channel.as_str(),
            ticket: channel.ticket().map(str::to_owned),
            subject_hash: hash,
            deleted: BTreeMap::new(),
            matomo: "not_configured".to_owned(),
        };
        let matomo_visitor_id = self.matomo_erasure.then(|| self.matomo_visitor_id(ssaid));
        let (record, revoked) = self
            .storage
            .erase_subject(
                ssaid,
                self.longest_cookie(),
                draft,
                matomo_visitor_id.as_deref(),
            )
            .await?;
        self.revoked.insert(revoked);
        self.counters.erasure(channel.as_str());
        tracing::info!(
            event = "subject_erased",
            erasure_id = %record.id,
            channel = record.channel,
            repeated = !earlier.is_empty(),
        );
        Ok(Erasure {
            record,
            repeated: !earlier.is_empty(),
        })
    }

    /// Stops honouring a standing decision a later one withdrew.
    pub(super) async fn revoke(&self, event_id: &str, decided_at: i64) -> Result<(), StorageError> {
        let Ok(id) = Uuid::parse_str(event_id) else {
            return Ok(());
        };
        let decided = DateTime::from_timestamp(decided_at, 0).unwrap_or_else(|| self.clock.now());
        self.storage
            .revoke_consent(id, decided + self.longest_cookie())
            .await?;
        self.revoked.insert([id]);
        Ok(())
    }

    /// The longest a consent cookie can live: a revocation must outlast it.
    fn longest_cookie(&self) -> TimeDelta {
        TimeDelta::seconds(self.expiry.consent_secs.max(self.expiry.refusal_secs))
    }
}

/// An erasure done: its evidence, and whether the same subject was erased before.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    #[serde(flatten)]
    pub record: ErasureRecord,
    pub repeated: bool,
}
