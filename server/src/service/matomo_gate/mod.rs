//! The Matomo gate's I/O: decides each hit with the pure rules in [`crate::domain::tracking`]
//! and forwards what may go to the configured Matomo, in the background, within bounds.

use crate::domain::network::mask_ip;
use crate::domain::tracking::{
    BulkRequest, DropReason, PersonalFields, TrackingHit, UpstreamFields, Verdict, VisitorSignals,
    WithoutConsent, decide, with_token,
};
use crate::infra::config::MatomoSettings;
use crate::infra::metrics::{GateMetrics, HitOutcome, HitReason, UpstreamError};
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use upstream::{FORM, JSON, Upstream};

mod upstream;

pub use upstream::UpstreamSetupError;

/// How a request reached the gate; forwards keep the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `GET /matomo.php?…` (image requests).
    Query,
    /// `POST` with a form-encoded body (XHR or `sendBeacon`).
    Form,
    /// `POST` with `{"requests": […]}`.
    Bulk,
}

/// What the visitor's request says about them, for the hits that are forwarded.
#[derive(Debug, Clone, Default)]
pub struct VisitorHeaders {
    pub user_agent: Option<String>,
    pub accept_language: Option<String>,
    pub ip: Option<IpAddr>,
    /// Matomo's visitor id for the visitor's SSAID; set only for a visitor who consented.
    pub visitor_id: Option<String>,
}

pub struct MatomoGate {
    upstream: Upstream,
    without_consent: WithoutConsent,
    category: String,
    personal: PersonalFields,
    token_auth: Option<SecretString>,
    cip_mask_bytes: u8,
    /// Permits for forwards in flight (requests to Matomo under way).
    in_flight: Arc<Semaphore>,
    max_in_flight: u32,
    /// Hits that came while every permit was taken, oldest first: the next free permit takes
    /// them as one bulk request. Bounded by [`Self::max_waiting`]; beyond it hits are shed.
    waiting: std::sync::Mutex<Vec<Prepared>>,
    metrics: Arc<GateMetrics>,
}

/// The most hits one forward carries: a bulk request of this many is about 100 KB.
pub const MAX_HITS_PER_FORWARD: usize = 200;

/// Hits ready to leave.
#[derive(Debug, Default)]
pub struct Admitted {
    queries: Vec<Prepared>,
}

/// One hit ready to leave: form-encoded once, as Matomo reads a query string or form body.
#[derive(Debug)]
struct Prepared {
    query: String,
    /// It carries the `cip` the gate set: only such a hit goes with the gate's `token_auth`.
    vouched: bool,
}

impl Admitted {
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.queries.len()
    }
}

impl MatomoGate {
    /// The gate, or `None` when no upstream is configured.
    pub fn new(
        settings: &MatomoSettings,
        metrics: Arc<GateMetrics>,
    ) -> Result<Option<Self>, UpstreamSetupError> {
        let Some(upstream) = &settings.upstream_url else {
            return Ok(None);
        };
        let upstream = Upstream::new(
            upstream,
            Duration::from_millis(settings.timeout_ms),
            settings.max_in_flight,
        )?;
        Ok(Some(Self {
            upstream,
            without_consent: settings.without_consent,
            category: settings.category.clone(),
            personal: PersonalFields {
                dimensions: settings.personal_dimensions.iter().copied().collect(),
            },
            token_auth: settings.token_auth.clone(),
            cip_mask_bytes: settings.cip_mask_bytes,
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
            max_in_flight: u32::try_from(settings.max_in_flight)
                .expect("the settings check keeps max_in_flight small"),
            waiting: std::sync::Mutex::default(),
            metrics,
        }))
    }

    /// Sends the hits still waiting, then waits until every forward in flight has arrived or
    /// failed (each is bounded by `timeout_ms`), taking every slot so that none starts
    /// meanwhile: for shutdown, after the last request was answered.
    pub async fn drain(self: &Arc<Self>) {
        loop {
            let Ok(permit) = Arc::clone(&self.in_flight).acquire_owned().await else {
                return;
            };
            let batch = self.take_waiting(0);
            if batch.is_empty() {
                break;
            }
            self.forward(permit, Shape::Bulk, batch);
        }
        if let Ok(all) = self.in_flight.acquire_many(self.max_in_flight).await {
            all.forget();
            self.in_flight.close();
        }
    }

    /// How many hits may wait for a permit: as many as the permits take in one round.
    fn max_waiting(&self) -> usize {
        MAX_HITS_PER_FORWARD * self.max_in_flight as usize
    }

    /// The waiting hits. A panic while they were held cannot leave them half-changed (they
    /// are only appended to and drained), so a poisoned lock is taken as it is: otherwise
    /// every later hit would be shed.
    fn waiting(&self) -> std::sync::MutexGuard<'_, Vec<Prepared>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The oldest waiting hits, as many as fit in one forward beside `room_taken` others.
    fn take_waiting(&self, room_taken: usize) -> Vec<Prepared> {
        let mut waiting = self.waiting();
        let count = waiting
            .len()
            .min(MAX_HITS_PER_FORWARD.saturating_sub(room_taken));
        waiting.drain(..count).collect()
    }

    /// With a permit free and hits waiting, sends them; called by whoever may have left hits
    /// without a forward: a request that queued its hits, and a forward that has just ended.
    fn forward_waiting(self: &Arc<Self>) {
        let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            // Every permit is held, and each holder calls this once it lets go.
            return;
        };
        let batch = self.take_waiting(0);
        if !batch.is_empty() {
            self.forward(permit, Shape::Bulk, batch);
        }
    }

    /// The policy category whose consent lets hits through.
    pub fn category(&self) -> &str {
        &self.category
    }

    pub fn metrics(&self) -> &GateMetrics {
        &self.metrics
    }

    /// Decides every hit and returns those that may leave, prepared for the upstream.
    pub fn admit(
        &self,
        hits: &[TrackingHit],
        signals: VisitorSignals,
        visitor: &VisitorHeaders,
    ) -> Admitted {
        // One verdict for the whole request: it depends on the visitor, not on the hit.
        let verdict = decide(signals, self.without_consent);
        let count = hits.len();
        let queries = match verdict {
            Verdict::Drop(reason) => {
                let reason = match reason {
                    DropReason::NoConsent => HitReason::NoConsent,
                    DropReason::GlobalPrivacyControl => HitReason::Gpc,
                };
                for _ in 0..count {
                    self.metrics.hit(HitOutcome::Dropped, reason);
                }
                Vec::new()
            }
            Verdict::Forward => {
                let cip = self
                    .token_auth
                    .as_ref()
                    .and(visitor.ip)
                    .map(|ip| mask_ip(ip, self.cip_mask_bytes).to_string());
                let fields = UpstreamFields {
                    user_agent: visitor.user_agent.as_deref(),
                    accept_language: visitor.accept_language.as_deref(),
                    cip: cip.as_deref(),
                    visitor_id: visitor.visitor_id.as_deref(),
                };
                hits.iter()
                    .map(|hit| {
                        self.metrics.hit(HitOutcome::Forwarded, HitReason::Consent);
                        Prepared {
                            query: hit.upstream_query(&fields),
                            vouched: cip.is_some(),
                        }
                    })
                    .collect()
            }
            Verdict::Anonymise => {
                // No address either: an anonymous hit must not be linkable to the visitor.
                let anonymous = UpstreamFields {
                    user_agent: visitor.user_agent.as_deref(),
                    accept_language: visitor.accept_language.as_deref(),
                    cip: None,
                    visitor_id: None,
                };
                hits.iter()
                    .map(|hit| {
                        self.metrics
                            .hit(HitOutcome::Anonymised, HitReason::NoConsent);
                        Prepared {
                            query: hit.anonymised(&self.personal).upstream_query(&anonymous),
                            vouched: false,
                        }
                    })
                    .collect()
            }
        };
        Admitted { queries }
    }

    /// Sends the hits upstream in the background and returns at once. While every permit is
    /// taken the hits wait, and the next forward to start takes them along as one bulk
    /// request, so a busy or slow Matomo gets fewer, larger requests instead of a pile of
    /// small ones; with `max_waiting` hits already waiting they are shed (counted and logged).
    pub fn dispatch(self: &Arc<Self>, shape: Shape, hits: Admitted) {
        if hits.is_empty() {
            return;
        }
        let mut queries = hits.queries;
        if let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() {
            let waiting = self.take_waiting(queries.len());
            if waiting.is_empty() {
                return self.forward(permit, shape, queries);
            }
            // The hits that waited go first: they came first.
            let mut batch = waiting;
            batch.append(&mut queries);
            self.forward(permit, Shape::Bulk, batch);
            // What did not fit waits for the next permit.
            return self.forward_waiting();
        }
        let count = queries.len();
        let queued = {
            let mut waiting = self.waiting();
            let room = waiting.len() + count <= self.max_waiting();
            if room {
                waiting.append(&mut queries);
            }
            room
        };
        if !queued {
            self.metrics.upstream_error(UpstreamError::Overloaded);
            tracing::warn!(
                event = "matomo_forward_shed",
                hits = count,
                "too many hits waiting for Matomo; hits shed"
            );
            return;
        }
        // A permit let go between the failed try and the queueing would otherwise leave the
        // hits waiting for the next request.
        self.forward_waiting();
    }

    /// Sends `queries` with `permit` in the background; when done, lets the permit go and
    /// sends what waited meanwhile.
    fn forward(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        shape: Shape,
        queries: Vec<Prepared>,
    ) {
        let count = queries.len();
        let request = match self.request(shape, Admitted { queries }) {
            Ok(request) => request,
            Err(err) => {
                // Every query was form-encoded here, so this is a bug, not a visitor's doing.
                self.metrics.upstream_error(UpstreamError::Other);
                tracing::error!(event = "matomo_forward_failed", kind = "other", hits = count, error = %err, "could not build the forward");
                return;
            }
        };
        let gate = Arc::clone(self);
        tokio::spawn(async move {
            let in_flight = gate.metrics.forward_started(count);
            let started = Instant::now();
            match gate.upstream.send(request).await {
                Ok(status) if status.is_success() => {
                    gate.metrics.upstream_latency(started.elapsed());
                }
                Ok(status) => {
                    gate.metrics.upstream_error(UpstreamError::Status);
                    tracing::warn!(
                        event = "matomo_forward_failed",
                        kind = "status",
                        status = status.as_u16(),
                        hits = count,
                        "Matomo refused forwarded hits"
                    );
                }
                Err(kind) => {
                    gate.metrics.upstream_error(kind);
                    // Neither URL nor body: they hold the hits' fields.
                    tracing::warn!(
                        event = "matomo_forward_failed",
                        kind = kind.as_str(),
                        hits = count,
                        "could not forward hits to Matomo"
                    );
                }
            }
            drop(in_flight);
            drop(permit);
            gate.forward_waiting();
        });
    }

    fn request(&self, shape: Shape, hits: Admitted) -> Result<http::Request<String>, http::Error> {
        // The token goes only with the addresses it vouches for (see `Prepared::vouched`).
        let token = self.token_auth.as_ref().map(|t| t.expose_secret());
        let mut queries = hits.queries;
        match (shape, queries.pop()) {
            // A vouched hit goes as a POST with the token last in its body: the token never
            // sits in a URL that Matomo's access log would keep.
            (Shape::Query | Shape::Form, Some(Prepared { query, vouched }))
                if queries.is_empty() && vouched =>
            {
                let body = match token {
                    Some(token) => with_token(query, token),
                    None => query,
                };
                self.upstream
                    .request(http::Method::POST, None, Some(FORM), body)
            }
            (Shape::Query, Some(Prepared { query, .. })) if queries.is_empty() => self
                .upstream
                .request(http::Method::GET, Some(&query), None, String::new()),
            (Shape::Form, Some(Prepared { query, .. })) if queries.is_empty() => self
                .upstream
                .request(http::Method::POST, None, Some(FORM), query),
            (_, last) => {
                queries.extend(last);
                let token = token.filter(|_| queries.iter().any(|hit| hit.vouched));
                let queries: Vec<String> = queries.into_iter().map(|hit| hit.query).collect();
                self.upstream.request(
                    http::Method::POST,
                    None,
                    Some(JSON),
                    BulkRequest::body_of_queries(&queries, token),
                )
            }
        }
    }
}
