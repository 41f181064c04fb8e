//! The consent service: checks decisions against the published policy, records them as proof,
//! signs the consent cookie, expires refused identifiers and issues receipts. Pages reach it as
//! [`app::backend::ConsentBackend`]; the JSON API directly.

use crate::cookies::{self, CONSENT_COOKIE, CookiePolicy};
use crate::domain::claims::CONSENT_AUDIENCE;
use crate::domain::network::truncate_ip;
use crate::domain::receipt::{Controller, ReceiptInput};
use crate::domain::tracking::consent_grants;
use crate::domain::{ConsentClaims, ConsentReceipt, TerminalType, banner_text_hash};
use crate::policies::{PolicyRegistry, PolicySnapshot};
use crate::storage::{ConsentEvent, Storage, StorageError};
use crate::tokens::{ReceiptSigner, TokenSigner};
use crate::visitor::Visitor;
use app::backend::{BackendError, ConsentBackend, WithCookies};
use app::domain::identifier::{HOST_ONLY, PARENT_DOMAIN};
use app::domain::language;
use app::domain::{
    ConsentAction, ConsentRequest, ConsentSource, ConsentStatus, CurrentConsent, Decision,
    ExpiryRules, IdentifierKind, Policy, RecordedChoice, StorageKey, prompt_reason,
};
use axum::extract::ConnectInfo;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use http::request::Parts;
use http::{HeaderMap, HeaderValue};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Now, to the microsecond: the precision both engines store.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

pub struct ConsentService {
    pub storage: Arc<dyn Storage>,
    pub tokens: Arc<TokenSigner>,
    pub receipts: ReceiptSigner,
    pub cookies: CookiePolicy,
    pub policies: Arc<PolicyRegistry>,
    pub expiry: ExpiryRules,
    pub trust_forwarded_for: bool,
    pub controller: Controller,
    pub public_url: Option<String>,
}

/// What a decision records about the request it came with.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub ssaid: String,
    pub ip: Option<IpAddr>,
    pub ua_class: TerminalType,
    /// The names of the cookies the request carried (to expire pattern-named identifiers).
    pub cookie_names: Vec<String>,
    pub origin: Option<String>,
}

impl RequestContext {
    pub fn from_request(
        visitor: &Visitor,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
        trust_forwarded_for: bool,
    ) -> Self {
        let user_agent = headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        Self {
            ssaid: visitor.ssaid.as_str().to_owned(),
            ip: client_ip(headers, peer, trust_forwarded_for),
            ua_class: TerminalType::from_user_agent(user_agent),
            cookie_names: cookies::names(headers),
            origin: headers
                .get(http::header::ORIGIN)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }

    fn from_parts(parts: &Parts, trust_forwarded_for: bool) -> Result<Self, BackendError> {
        let visitor = parts.extensions.get::<Visitor>().ok_or_else(|| {
            tracing::error!("server function called outside the SSAID middleware");
            BackendError::Internal
        })?;
        Ok(Self::from_request(
            visitor,
            &parts.headers,
            peer_address(parts),
            trust_forwarded_for,
        ))
    }
}

/// Handlers take the context directly: the visitor (from the SSAID middleware), the peer
/// address and the headers, as the service's settings say to read them.
impl axum::extract::FromRequestParts<crate::startup::AppState> for RequestContext {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::startup::AppState,
    ) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts, state.consent.trust_forwarded_for).map_err(|_| {
            crate::error::ApiError::internal("route is not behind the SSAID middleware")
        })
    }
}

/// The visitor's address: the first `X-Forwarded-For` entry behind a trusted proxy, else the
/// peer's.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    let forwarded = trust_forwarded_for
        .then(|| {
            headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|first| first.trim().parse::<IpAddr>().ok())
        })
        .flatten();
    forwarded.or(peer.map(|addr| addr.ip()))
}

/// The connection's peer, when the server was started with connect info.
fn peer_address(parts: &Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
}

/// The client address of a request, as the service's settings say to read it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl axum::extract::FromRequestParts<crate::startup::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::startup::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(
            &parts.headers,
            peer_address(parts),
            state.consent.trust_forwarded_for,
        )))
    }
}

/// `Sec-GPC: 1`: the browser's Global Privacy Control signal.
pub fn gpc_requested(headers: &HeaderMap) -> bool {
    headers
        .get("sec-gpc")
        .is_some_and(|value| value.as_bytes().trim_ascii() == b"1")
}

/// A signed receipt and the key that verifies it.
#[derive(Debug, serde::Serialize)]
pub struct SignedReceipt {
    pub receipt: ConsentReceipt,
    /// Compact JWS (EdDSA) whose payload is `receipt`.
    pub jws: String,
    pub kid: String,
    pub jwks_url: String,
}

fn internal(err: impl std::fmt::Display) -> BackendError {
    tracing::error!(error = %err, "consent storage failed");
    BackendError::Internal
}

impl ConsentService {
    /// The standing decision carried by a trusted consent cookie, if any.
    pub fn current_consent(&self, headers: &HeaderMap) -> Option<CurrentConsent> {
        let token = cookies::read(headers, CONSENT_COOKIE)?;
        match self
            .tokens
            .verify::<ConsentClaims>(&token, CONSENT_AUDIENCE)
        {
            Ok(claims) => Some(claims.into_current()),
            Err(reason) => {
                tracing::info!(event = "consent_cookie_rejected", %reason, "ignoring untrusted consent cookie");
                None
            }
        }
    }

    /// Whether the request's consent cookie grants `category` under the current policy: signed
    /// by us, not expired, not made before a material change, and the category granted.
    pub async fn grants(&self, headers: &HeaderMap, category: &str) -> bool {
        let Some(current) = self.current_consent(headers) else {
            return false;
        };
        let snapshot = self.policies.current().await;
        let prompt = prompt_reason(
            &snapshot.current().policy,
            snapshot.history(),
            Some(&current),
            &self.expiry,
            now().timestamp(),
        );
        consent_grants(category, Some(&current), prompt.as_ref())
    }

    /// The current policy version, as last read.
    pub fn policy_version(&self) -> String {
        self.policies.cached().current().record.version.clone()
    }

    fn parent_domain(&self) -> Option<&str> {
        self.cookies.consent_domain.as_deref()
    }

    /// The status for a request; with `Sec-GPC: 1` and no decision yet, records the GPC
    /// default first (when the visitor is known).
    pub async fn status_for(
        &self,
        headers: &HeaderMap,
        language: &str,
        context: Option<&RequestContext>,
    ) -> Result<WithCookies<ConsentStatus>, BackendError> {
        let snapshot = self.policies.current().await;
        let policy = &snapshot.current().policy;
        let mut current = self.current_consent(headers);
        let mut set_cookies = Vec::new();
        if current.is_none()
            && gpc_requested(headers)
            && let Some(context) = context
        {
            let request = ConsentRequest {
                policy_version: policy.version.to_string(),
                action: ConsentAction::Gpc,
                categories: None,
                language: None,
            };
            let recorded = self
                .record_in(&snapshot, context, request, ConsentSource::Gpc)
                .await?;
            current = Some(recorded.value.consent);
            set_cookies = recorded.set_cookies;
        }
        let prompt = prompt_reason(
            policy,
            snapshot.history(),
            current.as_ref(),
            &self.expiry,
            now().timestamp(),
        );
        Ok(WithCookies {
            value: ConsentStatus {
                policy: policy.view(language, self.parent_domain()),
                current,
                prompt,
            },
            set_cookies,
        })
    }

    pub async fn record_for(
        &self,
        context: &RequestContext,
        request: ConsentRequest,
        source: ConsentSource,
        headers: &HeaderMap,
    ) -> Result<WithCookies<RecordedChoice>, BackendError> {
        let snapshot = self.policies.current().await;
        if request.action == ConsentAction::Gpc
            && let Some(current) = self.current_consent(headers)
        {
            // GPC is a default for visitors who have not chosen; it never overrides a choice.
            return Ok(WithCookies {
                value: RecordedChoice {
                    consent: current,
                    clear_storage: Vec::new(),
                },
                set_cookies: Vec::new(),
            });
        }
        self.record_in(&snapshot, context, request, source).await
    }

    async fn record_in(
        &self,
        snapshot: &PolicySnapshot,
        context: &RequestContext,
        request: ConsentRequest,
        source: ConsentSource,
    ) -> Result<WithCookies<RecordedChoice>, BackendError> {
        let published = snapshot.current();
        let policy = &published.policy;
        let language = request
            .language
            .clone()
            .filter(|language| policy.banner.contains_key(language))
            .unwrap_or_else(|| policy.default_language.clone());
        let decision = Decision::validate(policy, request)?;
        let shown = policy.view(&language, self.parent_domain());
        let now = now();
        let event = ConsentEvent {
            id: Uuid::now_v7(),
            ssaid: context.ssaid.clone(),
            policy_version: decision.policy_version.clone(),
            categories: decision.category_states(),
            action: decision.action,
            source,
            created_at: now,
            policy_hash: published.record.hash.clone(),
            banner_text_hash: banner_text_hash(&shown),
            language,
            ip_prefix: context.ip.map(truncate_ip),
            ua_class: context.ua_class,
            // The site a decision came from, when another site's page made it.
            origin: matches!(source, ConsentSource::Embed | ConsentSource::Api)
                .then(|| context.origin.clone())
                .flatten(),
        };
        self.storage
            .insert_consent_event(&event)
            .await
            .map_err(internal)?;
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
        let claims = ConsentClaims::new(&decision, event.id.to_string(), now.timestamp(), validity);
        let mut set_cookies = vec![self.cookies.consent(
            self.tokens.sign(&claims),
            Duration::from_secs(u64::try_from(validity).unwrap_or(0)),
        )];
        let refused: Vec<&str> = decision.refused().collect();
        set_cookies.extend(self.expire_identifiers(policy, &refused, &context.cookie_names));
        Ok(WithCookies {
            value: RecordedChoice {
                consent: current,
                clear_storage: storage_keys(policy, &refused),
            },
            set_cookies,
        })
    }

    /// `Set-Cookie` expiries for every cookie of the refused categories, on each domain the
    /// registry lists it for: host-only and the shared parent domain. Pattern names (Matomo's
    /// `_pk_id.*`) are expired for each matching cookie the browser sent.
    fn expire_identifiers(
        &self,
        policy: &Policy,
        refused: &[&str],
        sent: &[String],
    ) -> Vec<HeaderValue> {
        let mut expiries = Vec::new();
        for identifier in policy.identifiers_of(refused.iter().copied()) {
            if identifier.kind != IdentifierKind::Cookie {
                continue;
            }
            let names: Vec<&str> = if identifier.is_pattern() {
                sent.iter()
                    .map(String::as_str)
                    .filter(|name| identifier.matches(name))
                    .collect()
            } else {
                vec![identifier.name.as_str()]
            };
            let mut domains: Vec<Option<&str>> = vec![None];
            match identifier.domain.as_str() {
                HOST_ONLY => {}
                PARENT_DOMAIN => domains.extend(self.parent_domain().map(Some)),
                other => domains.push(Some(other)),
            }
            for name in names {
                for domain in &domains {
                    expiries.push(cookies::expire(name, *domain, &identifier.path));
                }
            }
        }
        expiries
    }

    /// The receipt of one recorded decision, for the visitor who made it (or an admin).
    /// `None` when there is no such record for this requester: existence is not revealed.
    pub async fn receipt(
        &self,
        id: Uuid,
        requester: Option<&str>,
        base_url: &str,
    ) -> Result<Option<SignedReceipt>, StorageError> {
        let Some(event) = self.storage.find_consent_event(id).await? else {
            return Ok(None);
        };
        if requester.is_some_and(|ssaid| ssaid != event.ssaid) {
            return Ok(None);
        }
        let snapshot = self.policies.current().await;
        let Some(published) = snapshot.find(&event.policy_version) else {
            return Err(StorageError::Corrupt(format!(
                "event {id} names unpublished policy version {}",
                event.policy_version
            )));
        };
        let latest = self.storage.consent_events_for(&event.ssaid).await?;
        let superseded = latest.last().is_some_and(|last| last.id != event.id);
        let base = self
            .public_url
            .as_deref()
            .unwrap_or(base_url)
            .trim_end_matches('/');
        let notice_url = if published.policy.notice_url.starts_with('/') {
            format!("{base}{}", published.policy.notice_url)
        } else {
            published.policy.notice_url.clone()
        };
        let receipt = ConsentReceipt::build(ReceiptInput {
            record_id: event.id.to_string(),
            ssaid: &event.ssaid,
            policy: &published.policy,
            policy_hash: &published.record.hash,
            language: &event.language,
            shown_text_hash: &event.banner_text_hash,
            categories: &event.categories,
            action: event.action,
            source: event.source.as_str(),
            origin: event.origin.as_deref(),
            decided_at: event.created_at,
            superseded,
            controller: self.controller.clone(),
            notice_url,
            preferences_url: format!("{base}/preferences"),
            expiry: &self.expiry,
            now: now(),
        });
        Ok(Some(SignedReceipt {
            jws: self.receipts.sign(&receipt),
            receipt,
            kid: self.receipts.kid().to_owned(),
            jwks_url: format!("{base}/.well-known/jwks.json"),
        }))
    }
}

/// The browser-storage keys of the refused categories, for the page to remove.
fn storage_keys(policy: &Policy, refused: &[&str]) -> Vec<StorageKey> {
    policy
        .identifiers_of(refused.iter().copied())
        .into_iter()
        .filter(|identifier| identifier.kind != IdentifierKind::Cookie)
        .map(|identifier| StorageKey {
            kind: identifier.kind,
            name: identifier.name.clone(),
        })
        .collect()
}

#[async_trait::async_trait]
impl ConsentBackend for ConsentService {
    fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.policies.cached().current().policy)
    }

    async fn status(&self, request: &Parts) -> Result<WithCookies<ConsentStatus>, BackendError> {
        let context = RequestContext::from_parts(request, self.trust_forwarded_for).ok();
        let language = language::from_request(&request.uri, &request.headers);
        let mut status = self
            .status_for(&request.headers, language, context.as_ref())
            .await?;
        // An explicit language choice is remembered only with consent to preferences.
        let remembered = cookies::read(&request.headers, language::LANGUAGE_COOKIE);
        let may_remember = status
            .value
            .current
            .as_ref()
            .is_some_and(|current| current.state("preferences") == Some(true));
        if let Some(chosen) = language::explicit_choice(&request.uri)
            && may_remember
            && remembered.as_deref() != Some(chosen)
        {
            status.set_cookies.push(self.cookies.language(chosen));
        }
        Ok(status)
    }

    async fn record(
        &self,
        request: &Parts,
        consent: ConsentRequest,
        source: ConsentSource,
    ) -> Result<WithCookies<RecordedChoice>, BackendError> {
        let context = RequestContext::from_parts(request, self.trust_forwarded_for)?;
        self.record_for(&context, consent, source, &request.headers)
            .await
    }
}
