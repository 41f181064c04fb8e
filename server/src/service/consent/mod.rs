//! The consent core: checks decisions against the published policy, records them as proof,
//! signs the consent cookie, expires what a refusal takes away and issues receipts. It takes a
//! [`RequestContext`] that the HTTP layer (`crate::http`) read once from the request, and never
//! sees headers itself. Pages reach it through the port in [`port`], the routes directly.

pub mod breaker;
pub mod group_commit;
mod port;
mod receipts;

pub use port::BoundConsent;
pub use receipts::SignedReceipt;

use crate::domain::log;
use crate::domain::network::truncate_ip;
use crate::domain::receipt::Controller;
use crate::domain::{ConsentClaims, TerminalType};
use crate::infra::clock::Clock;
use crate::infra::cookies::CookiePolicy;
use crate::infra::tokens::{ReceiptSigner, TokenSigner};
use crate::service::policies::{PolicyRegistry, PolicySnapshot};
use crate::storage::{ConsentEvent, SsaidRecord, Storage};
use app::backend::{BackendError, WithCookies};
use app::domain::{
    AppliedJurisdiction, ConsentAction, ConsentRequest, ConsentSource, ConsentStatus,
    CurrentConsent, Decision, DecisionError, ExpiryRules, Location, PromptReason, RecordedChoice,
    expiries, prompt_reason, regime_grants,
};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The visitor behind a request, as their SSAID token says (notice §01).
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The SSAID with its issue time and terminal type, stored with the first decision.
    pub issued: SsaidRecord,
    /// The browser presented this SSAID, rather than being issued it with this answer: only a
    /// returning visitor's GPC signal is recorded, so cookieless crawlers write nothing.
    pub returning: bool,
}

/// What the consent core needs to know about one request, read once by the HTTP layer.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The visitor's SSAID; absent outside the SSAID middleware (error pages).
    pub visitor: Option<Visitor>,
    /// The standing decision carried by a consent cookie this service signed.
    pub consent: Option<CurrentConsent>,
    /// The language to answer in: `?lang=`, the remembered choice, `Accept-Language`, English.
    pub language: &'static str,
    /// An explicit `?lang=` choice, remembered (`zc_lang`) only with consent to preferences.
    pub chosen_language: Option<&'static str>,
    /// The remembered choice as the browser sent it.
    pub remembered_language: Option<String>,
    /// `Sec-GPC: 1`.
    pub gpc: bool,
    /// The visitor's address (the proxy's forwarded one when trusted); only its network is kept.
    pub network: Option<IpAddr>,
    /// Only its coarse terminal type is kept.
    pub user_agent: Option<String>,
    /// The names of the cookies the request carried (to expire pattern-named identifiers).
    pub cookie_names: Vec<String>,
    /// The page's origin, recorded for decisions made on other sites.
    pub origin: Option<String>,
    /// Where the visitor is, as far as the edge could tell: picks the regime.
    pub location: Location,
}

/// A visitor's standing decision under the current policy, why to ask them, if at all, and
/// the jurisdiction whose regime applies.
#[derive(Debug, Clone)]
pub struct Standing {
    pub current: Option<CurrentConsent>,
    pub prompt: Option<PromptReason>,
    pub jurisdiction: AppliedJurisdiction,
    /// Each category's state now, in the visitor's regime (`regime_grants`).
    pub granted: BTreeMap<String, bool>,
}

pub struct ConsentService {
    /// Every storage port. The core records and reads decisions (`DecisionStore`) and a
    /// subject's records (`SubjectStore`) through it; start-up hands each other service the one
    /// port it uses from it.
    pub storage: Arc<dyn Storage>,
    pub tokens: Arc<TokenSigner>,
    pub receipts: ReceiptSigner,
    pub cookies: CookiePolicy,
    pub policies: Arc<PolicyRegistry>,
    pub expiry: ExpiryRules,
    pub controller: Controller,
    /// Where decisions are stored and how long they are kept, as receipts state it.
    pub record_storage: crate::domain::receipt::RecordStorage,
    pub clock: Clock,
    /// Consent ids erased or withdrawn: their cookies are no longer honoured.
    pub revoked: Arc<super::rights::RevokedConsents>,
    /// Keys the visitor's pseudonyms (Matomo's visitor id, the erasure record's hash).
    pub pseudonym_key: PseudonymKey,
    /// Erasures are carried through to Matomo (its Reporting API is configured).
    pub matomo_erasure: bool,
    /// Decisions, SSAIDs issued, erasures and sign-ins, for `/metrics`.
    pub counters: Arc<crate::infra::metrics::ServiceCounters>,
    /// Answers decisions at once while storage is known to be unreachable.
    pub storage_breaker: breaker::StorageBreaker,
    /// Stores decisions in groups that share one commit.
    pub decisions: group_commit::DecisionWriter,
}

/// The secret behind the keyed pseudonyms of an SSAID (and of the addresses risk control
/// counts); never logged.
#[derive(Clone)]
pub struct PseudonymKey(secrecy::SecretSlice<u8>);

impl PseudonymKey {
    pub fn new(key: secrecy::SecretSlice<u8>) -> Self {
        Self(key)
    }

    pub fn expose(&self) -> &[u8] {
        use secrecy::ExposeSecret;
        self.0.expose_secret()
    }
}

impl ConsentService {
    /// Whether `category` is granted now to a visitor at `location` with this trusted standing
    /// decision, in their jurisdiction's regime: under opt-in only a decision that still holds
    /// (not expired, not made before a material change) and grants it; under opt-out and
    /// notice, unless refused (GPC refuses what the policy lets it).
    pub async fn grants(
        &self,
        consent: Option<&CurrentConsent>,
        category: &str,
        location: &Location,
        gpc: bool,
    ) -> bool {
        let current = consent.filter(|current| !self.revoked.contains(&current.event_id));
        let snapshot = self.policies.current().await;
        let policy = &snapshot.current().policy;
        let jurisdiction = policy.jurisdiction_for(location);
        let prompt = prompt_reason(
            policy,
            snapshot.history(),
            current,
            &self.expiry,
            self.clock.now().timestamp(),
            &jurisdiction.name,
        );
        regime_grants(
            policy,
            jurisdiction.regime,
            category,
            current,
            prompt.as_ref(),
            gpc,
        )
    }

    /// The `bnd` claim of a consent cookie given with `ssaid` (see `domain::rights`).
    pub fn consent_binding(&self, ssaid: &crate::domain::Ssaid) -> String {
        crate::domain::rights::consent_binding(self.pseudonym_key.expose(), ssaid)
    }

    /// The current policy version, as last read.
    pub fn policy_version(&self) -> String {
        self.policies.cached().current().record.version.to_string()
    }

    fn parent_domain(&self) -> Option<&str> {
        self.cookies.consent_domain.as_deref()
    }

    /// The status for a request: [`Self::standing`] with the policy as the banner shows it in
    /// the request's language, and each category's state now in the visitor's regime.
    pub async fn status(
        &self,
        request: &RequestContext,
    ) -> Result<WithCookies<ConsentStatus>, BackendError> {
        let snapshot = self.policies.current().await;
        let standing = self.standing_in(&snapshot, request).await?;
        let Standing {
            current,
            prompt,
            jurisdiction,
            granted,
        } = standing.value;
        let status = ConsentStatus {
            policy: snapshot
                .current()
                .shown(request.language, self.parent_domain())
                .view
                .clone(),
            gpc_signal: request.gpc,
            current,
            prompt,
            jurisdiction,
            granted,
        };
        Ok(WithCookies {
            value: status,
            set_cookies: standing.set_cookies,
        })
    }

    /// The visitor's standing decision and whether to ask, without the policy's texts (the
    /// JSON API answers only these). With `Sec-GPC: 1` and no decision yet, the GPC default
    /// applies; it is recorded (and its cookie set) once the browser comes back with its SSAID,
    /// so a visitor's GPC is recorded once and a cookieless crawler's never. An explicit
    /// language choice is remembered when the visitor consented to preferences.
    pub async fn standing(
        &self,
        request: &RequestContext,
    ) -> Result<WithCookies<(String, Standing)>, BackendError> {
        let snapshot = self.policies.current().await;
        let standing = self.standing_in(&snapshot, request).await?;
        Ok(WithCookies {
            value: (
                snapshot.current().record.version.to_string(),
                standing.value,
            ),
            set_cookies: standing.set_cookies,
        })
    }

    async fn standing_in(
        &self,
        snapshot: &PolicySnapshot,
        request: &RequestContext,
    ) -> Result<WithCookies<Standing>, BackendError> {
        let policy = &snapshot.current().policy;
        let jurisdiction = policy.jurisdiction_for(&request.location);
        let mut current = request.consent.clone();
        let mut set_cookies = Vec::new();
        let returning = request
            .visitor
            .as_ref()
            .is_some_and(|visitor| visitor.returning);
        if current.is_none() && request.gpc && returning {
            let gpc = ConsentRequest {
                policy_version: policy.version.to_string(),
                action: ConsentAction::Gpc,
                categories: None,
                language: None,
                decided_ms_ago: None,
            };
            let recorded = self
                .record_in(snapshot, request, gpc, ConsentSource::Gpc)
                .await?;
            current = Some(recorded.value.consent);
            set_cookies = recorded.set_cookies;
        }
        let prompt = prompt_reason(
            policy,
            snapshot.history(),
            current.as_ref(),
            &self.expiry,
            self.clock.now().timestamp(),
            &jurisdiction.name,
        );
        let granted = policy
            .categories
            .iter()
            .map(|category| {
                let id = category.id.as_str();
                let state = category.required()
                    || regime_grants(
                        policy,
                        jurisdiction.regime,
                        id,
                        current.as_ref(),
                        prompt.as_ref(),
                        request.gpc,
                    );
                (id.to_owned(), state)
            })
            .collect();
        // Remembering a language is itself a preference: only with that category granted.
        let may_remember = granted_now(&granted, "preferences");
        if let Some(chosen) = request.chosen_language
            && may_remember
            && request.remembered_language.as_deref() != Some(chosen)
        {
            set_cookies.push(self.cookies.language(chosen));
        }
        Ok(WithCookies {
            value: Standing {
                current,
                prompt,
                jurisdiction,
                granted,
            },
            set_cookies,
        })
    }

    pub async fn record(
        &self,
        request: &RequestContext,
        consent: ConsentRequest,
        source: ConsentSource,
    ) -> Result<WithCookies<RecordedChoice>, BackendError> {
        if consent.action == ConsentAction::Gpc && !request.gpc {
            // GPC is the browser's signal, not something a page may claim for the visitor.
            return Err(DecisionError::GpcWithoutSignal.into());
        }
        if consent.action == ConsentAction::Gpc
            && let Some(current) = &request.consent
        {
            // GPC is a default for visitors who have not chosen; it never overrides a choice.
            return Ok(WithCookies {
                value: RecordedChoice {
                    consent: current.clone(),
                    clear_storage: Vec::new(),
                },
                set_cookies: Vec::new(),
            });
        }
        let snapshot = self.policies.current().await;
        self.record_in(&snapshot, request, consent, source).await
    }

    async fn record_in(
        &self,
        snapshot: &PolicySnapshot,
        request: &RequestContext,
        consent: ConsentRequest,
        source: ConsentSource,
    ) -> Result<WithCookies<RecordedChoice>, BackendError> {
        let visitor = request.visitor.as_ref().ok_or_else(|| {
            BackendError::internal("a decision reached the service without a visitor")
        })?;
        let published = snapshot.current();
        let policy = &published.policy;
        let language = consent
            .language
            .clone()
            .filter(|language| policy.banner.contains_key(language))
            .unwrap_or_else(|| policy.default_language.clone());
        let jurisdiction = policy.jurisdiction_for(&request.location);
        let decision = Decision::validate(policy, consent)?.in_regime(
            policy,
            jurisdiction.regime,
            request.gpc,
        )?;
        let shown = published.shown(&language, self.parent_domain());
        // To the microsecond, as both engines keep it and the log's leaf commits to it.
        let now = log::leaf::to_micros(self.clock.now());
        let event = ConsentEvent {
            id: Uuid::now_v7(),
            ssaid: visitor.issued.ssaid.clone(),
            policy_version: policy.version.clone(),
            categories: decision.category_states(),
            action: decision.action,
            source,
            created_at: now,
            // A late delivery keeps when the choice was made; the record keeps both times.
            made_at: (decision.decided_ms_ago > 0).then(|| {
                now - chrono::Duration::milliseconds(
                    i64::try_from(decision.decided_ms_ago).unwrap_or(i64::MAX),
                )
            }),
            policy_hash: published.record.hash.clone(),
            banner_text_hash: shown.banner_text_hash.clone(),
            language,
            ip_prefix: request.network.map(truncate_ip),
            ua_class: TerminalType::from_user_agent(request.user_agent.as_deref()),
            // The site a decision came from, when another site's page made it.
            origin: matches!(source, ConsentSource::Embed | ConsentSource::Api)
                .then(|| request.origin.clone())
                .flatten(),
            jurisdiction: Some((&jurisdiction).into()),
            log_salt: Some(log::leaf::new_salt()),
        };
        if !self.storage_breaker.allow() {
            return Err(BackendError::Unavailable(
                "storage was unreachable a moment ago; not waiting for it again yet".to_owned(),
            ));
        }
        let inserted = self
            .decisions
            .insert(visitor.issued.clone(), event.clone())
            .await;
        self.storage_breaker.observe(&inserted);
        inserted.map_err(BackendError::from)?;
        self.counters
            .decision(event.action.as_str(), event.source.as_str());
        // A copy of the earlier cookie must not keep granting what this choice takes back.
        if let Some(earlier) = &request.consent
            && earlier.categories.iter().any(|(category, granted)| {
                *granted && event.categories.get(category) != Some(&true)
            })
        {
            self.revoke(&earlier.event_id, earlier.decided_at)
                .await
                .map_err(BackendError::from)?;
        }
        tracing::info!(
            event = "consent_recorded",
            consent_id = %event.id,
            action = event.action.as_str(),
            source = source.as_str(),
            policy_version = %event.policy_version,
        );
        let current = CurrentConsent {
            policy_version: decision.policy_version.clone(),
            categories: decision.category_states(),
            event_id: event.id.to_string(),
            decided_at: now.timestamp(),
            action: decision.action,
        };
        let validity = self.expiry.validity_secs(policy, &current);
        let claims = ConsentClaims::new(
            &decision,
            event.id.to_string(),
            self.consent_binding(&visitor.issued.ssaid),
            now.timestamp(),
            validity,
        );
        let mut set_cookies = vec![self.cookies.consent(
            self.tokens.sign(&claims),
            Duration::from_secs(u64::try_from(validity).unwrap_or(0)),
        )];
        let refused: Vec<&str> = decision.refused().collect();
        let expiries = expiries(
            policy,
            &refused,
            &request.cookie_names,
            self.parent_domain(),
        );
        set_cookies.extend(expiries.cookies.iter().map(crate::infra::cookies::expire));
        Ok(WithCookies {
            value: RecordedChoice {
                consent: current,
                clear_storage: expiries.storage,
            },
            set_cookies,
        })
    }
}

fn granted_now(granted: &BTreeMap<String, bool>, category: &str) -> bool {
    granted.get(category).copied().unwrap_or(false)
}
