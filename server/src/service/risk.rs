//! Risk control with the SSAID (notice §01): counts what each address does (SSAIDs issued,
//! forged tokens presented), keeps where each SSAID was seen by the back ends that ask about it,
//! and answers their assessments. An address is kept as a keyed hash beside its network, so
//! the network's signal is its addresses' counts, each weighed (`domain::risk::network_weight`).
//! Counts are gathered in memory and added to storage every few seconds, so several instances
//! agree and a flood costs one row per address and window; the rules that turn them into a
//! risk are pure (`crate::domain::risk`).

use crate::domain::claims::SSAID_AUDIENCE;
use crate::domain::network::{address_key, truncate_ip};
use crate::domain::risk::{
    AddressCount, AssessedEvent, COUNTER_WINDOW_SECS, CounterKind, Risk, RiskThresholds, Sighting,
    Signal, Signals, TerminalTypes, network_weight, window_start,
};
use crate::domain::{Ssaid, SsaidClaims, TerminalType};
use crate::infra::clock::Clock;
use crate::infra::tokens::{TokenRejection, TokenSigner};
use crate::storage::{DecisionStore, RiskStore, StorageError};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often counts gathered in memory are added to storage.
const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Distinct (address, kind) keys held between flushes; a flood of more is counted in
/// the next flush's keys only, so memory stays bounded whatever the traffic.
const MAX_PENDING_KEYS: usize = 50_000;

/// Not yet flushed: per network and kind, per address, the count of each window. Keyed so
/// that an assessment looks its network up instead of scanning every pending count.
type Windows = BTreeMap<DateTime<Utc>, i64>;

#[derive(Default)]
struct Pending {
    by_network: HashMap<(String, CounterKind), HashMap<String, Windows>>,
    /// Addresses held, over every network and kind.
    keys: usize,
}

impl Pending {
    fn add(&mut self, network: String, kind: CounterKind, address: String, windows: Windows) {
        let addresses = self.by_network.entry((network, kind)).or_default();
        let kept = addresses.entry(address).or_insert_with(|| {
            self.keys += 1;
            Windows::new()
        });
        for (window, count) in windows {
            *kept.entry(window).or_insert(0) += count;
        }
    }
}

pub struct RiskControl {
    /// The counters and sightings.
    storage: Arc<dyn RiskStore>,
    /// The assessed visitor's latest decision.
    decisions: Arc<dyn DecisionStore>,
    tokens: Arc<TokenSigner>,
    thresholds: RiskThresholds,
    clock: Clock,
    /// Keys the addresses' hashes (the pseudonym key).
    address_key: crate::service::PseudonymKey,
    pending: Mutex<Pending>,
}

/// What a back end tells about the browser in front of it.
#[derive(Debug)]
pub struct AssessmentRequest {
    /// The `zc_ssaid` cookie value as the back end received it.
    pub token: Option<String>,
    pub ip: IpAddr,
    pub user_agent: Option<String>,
    pub event: AssessedEvent,
}

/// The consent state of the assessed visitor: their latest decision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsentState {
    pub policy_version: String,
    pub categories: BTreeMap<String, bool>,
    #[schema(value_type = app::domain::ConsentAction)]
    pub action: &'static str,
    pub decided_at: DateTime<Utc>,
}

/// What an assessment found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    /// Whether the token is a valid SSAID of this service.
    pub valid: bool,
    /// Why it is not: `missing`, `malformed`, `expired`, `bad_signature` or `unknown_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(missing|malformed|expired|bad_signature|unknown_key)$")]
    pub reason: Option<&'static str>,
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9_-]{22}$")]
    pub ssaid: Option<Ssaid>,
    /// Seconds since the SSAID was issued.
    #[schema(minimum = 0)]
    pub age_secs: Option<i64>,
    /// The terminal type the SSAID was issued to.
    #[schema(value_type = Option<crate::domain::TerminalType>)]
    pub terminal_type: Option<&'static str>,
    pub risk: Risk,
    /// The signals that set the risk above `low`.
    pub risk_signals: Vec<&'static str>,
    pub signals: BTreeMap<&'static str, Signal>,
    pub consent: Option<ConsentState>,
}

impl RiskControl {
    pub fn new(
        storage: Arc<dyn RiskStore>,
        decisions: Arc<dyn DecisionStore>,
        tokens: Arc<TokenSigner>,
        thresholds: RiskThresholds,
        clock: Clock,
        address_key: crate::service::PseudonymKey,
    ) -> Self {
        Self {
            storage,
            decisions,
            tokens,
            thresholds,
            clock,
            address_key,
            pending: Mutex::new(Pending::default()),
        }
    }

    /// Counts one event of `kind` from `ip` (its address and its network); in memory, no I/O.
    pub fn count(&self, ip: Option<IpAddr>, kind: CounterKind) {
        let Some(ip) = ip else { return };
        let network = truncate_ip(ip);
        let address = address_key(self.address_key.expose(), ip);
        let window = window_start(self.clock.now());
        let mut pending = self.pending.lock().expect("risk counters lock");
        let known = pending
            .by_network
            .get(&(network.clone(), kind))
            .is_some_and(|addresses| addresses.contains_key(&address));
        if pending.keys >= MAX_PENDING_KEYS && !known {
            return;
        }
        pending.add(network, kind, address, Windows::from([(window, 1)]));
    }

    /// Adds the counts gathered since the last flush to storage; on failure they are kept for
    /// the next one.
    pub async fn flush(&self) -> Result<(), StorageError> {
        let taken = std::mem::take(&mut *self.pending.lock().expect("risk counters lock"));
        if taken.keys == 0 {
            return Ok(());
        }
        let counts: Vec<AddressCount> = taken
            .by_network
            .iter()
            .flat_map(|((network, kind), addresses)| {
                addresses.iter().flat_map(move |(address, windows)| {
                    windows
                        .iter()
                        .map(move |(window_start, count)| AddressCount {
                            address: address.clone(),
                            network: network.clone(),
                            kind: *kind,
                            window_start: *window_start,
                            count: *count,
                        })
                })
            })
            .collect();
        let result = self.storage.add_address_counts(&counts).await;
        if result.is_err() {
            let mut pending = self.pending.lock().expect("risk counters lock");
            for ((network, kind), addresses) in taken.by_network {
                for (address, windows) in addresses {
                    pending.add(network.clone(), kind, address, windows);
                }
            }
        }
        result
    }

    /// The counts of `kind` in the last hour from `ip` itself and from its network, weighed
    /// by address: every instance's flushed counts plus this instance's not yet flushed.
    async fn last_hour(&self, ip: IpAddr, kind: CounterKind) -> Result<(u64, u64), StorageError> {
        let network = truncate_ip(ip);
        let address = address_key(self.address_key.expose(), ip);
        let since = window_start(self.clock.now()) - TimeDelta::seconds(COUNTER_WINDOW_SECS * 11);
        let mut per_address: HashMap<String, u64> = self
            .storage
            .counts_by_address(&network, kind, since)
            .await?
            .into_iter()
            .collect();
        if let Some(addresses) = self
            .pending
            .lock()
            .expect("risk counters lock")
            .by_network
            .get(&(network, kind))
        {
            for (pending_address, windows) in addresses {
                let recent: i64 = windows.range(since..).map(|(_, count)| count).sum();
                *per_address.entry(pending_address.clone()).or_insert(0) +=
                    u64::try_from(recent).unwrap_or(0);
            }
        }
        let high = match kind {
            CounterKind::Minted => self.thresholds.new_identifiers_high,
            CounterKind::Forged => self.thresholds.forged_tokens_high,
        };
        let own = per_address.get(&address).copied().unwrap_or(0);
        let weighed = network_weight(
            per_address.into_values(),
            self.thresholds.network_share(high),
        );
        Ok((own, weighed))
    }

    /// Flushes counts every few seconds; ends with the service. (The retention purge deletes
    /// counters and sightings past `sightings_retention_days`.)
    pub fn spawn_upkeep(self: &Arc<Self>) {
        let risk = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut flush = tokio::time::interval(FLUSH_EVERY);
            loop {
                flush.tick().await;
                let Some(risk) = risk.upgrade() else { return };
                if let Err(err) = risk.flush().await {
                    tracing::warn!(error = %err, "risk counters not flushed; retrying later");
                }
            }
        });
    }

    /// Assesses the browser a back end describes. A garbage token is an answer (`valid:
    /// false` and why), never an error; a forged one is counted for its network.
    pub async fn assess(
        &self,
        request: AssessmentRequest,
        service: &str,
    ) -> Result<Assessment, StorageError> {
        let now = self.clock.now();
        let network = truncate_ip(request.ip);
        let verified = match request.token.as_deref().map(str::trim) {
            None | Some("") => Err("missing"),
            Some(token) => self
                .tokens
                .verify::<SsaidClaims>(token, SSAID_AUDIENCE)
                .map_err(|rejection| {
                    if rejection.is_forgery() {
                        self.count(Some(request.ip), CounterKind::Forged);
                    }
                    reason(&rejection)
                }),
        };
        let (minted_here, minted_around) = self.last_hour(request.ip, CounterKind::Minted).await?;
        let (forged_here, forged_around) = self.last_hour(request.ip, CounterKind::Forged).await?;
        let mut signals = Signals {
            new_identifiers_from_address: minted_here,
            new_identifiers_from_network: minted_around,
            forged_tokens_from_address: forged_here,
            forged_tokens_from_network: forged_around,
            ..Signals::default()
        };
        let claims = match verified {
            Ok(claims) => claims,
            Err(reason) => {
                tracing::info!(event = "ssaid_assessed", service, valid = false, reason);
                let (risk, risk_signals) = self.thresholds.assess(&signals);
                return Ok(Assessment {
                    valid: false,
                    reason: Some(reason),
                    ssaid: None,
                    age_secs: None,
                    terminal_type: None,
                    risk,
                    risk_signals,
                    signals: signals.named(),
                    consent: None,
                });
            }
        };
        let seen_as = TerminalType::from_user_agent(request.user_agent.as_deref());
        self.storage
            .record_sighting(&Sighting {
                ssaid: claims.sub.clone(),
                network,
                day: now.date_naive(),
                terminal_types: TerminalTypes::of(seen_as),
                seen_count: 1,
                first_seen: now,
                last_seen: now,
                last_service: service.to_owned(),
                last_event: request.event.as_str().to_owned(),
            })
            .await?;
        let sightings = self
            .storage
            .sightings_of(&claims.sub, now - TimeDelta::days(30))
            .await?;
        signals = signals.with_spread(&sightings, now);
        signals.terminal_type_changed = seen_as != claims.tt;
        let (risk, risk_signals) = self.thresholds.assess(&signals);
        let consent = self
            .decisions
            .latest_consent_event_for(&claims.sub)
            .await?
            .map(|event| ConsentState {
                policy_version: event.policy_version.to_string(),
                categories: event.categories,
                action: event.action.as_str(),
                decided_at: event.created_at,
            });
        tracing::info!(
            event = "ssaid_assessed",
            service,
            valid = true,
            risk = ?risk,
            assessed_event = request.event.as_str()
        );
        Ok(Assessment {
            valid: true,
            reason: None,
            age_secs: Some((now.timestamp() - claims.iat).max(0)),
            terminal_type: Some(claims.tt.as_str()),
            ssaid: Some(claims.sub),
            risk,
            risk_signals,
            signals: signals.named(),
            consent,
        })
    }
}

/// Why a token is not valid, in the API's words.
fn reason(rejection: &TokenRejection) -> &'static str {
    match rejection {
        TokenRejection::UnknownKey => "unknown_key",
        TokenRejection::BadSignature => "bad_signature",
        TokenRejection::Expired => "expired",
        TokenRejection::Malformed
        | TokenRejection::WrongAudience
        | TokenRejection::InvalidClaims(_) => "malformed",
    }
}
