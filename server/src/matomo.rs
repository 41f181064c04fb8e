//! The Matomo gate's I/O: decides each hit with the pure rules in [`crate::domain::tracking`]
//! and forwards what may go to the configured Matomo, in the background, within bounds.

use crate::config::MatomoSettings;
use crate::domain::network::mask_ip;
use crate::domain::tracking::{
    BulkRequest, PersonalFields, TrackingHit, UpstreamFields, Verdict, VisitorSignals,
    WithoutConsent, decide,
};
use crate::metrics::GateMetrics;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

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
    upstream: reqwest::Url,
    client: reqwest::Client,
    without_consent: WithoutConsent,
    category: String,
    personal: PersonalFields,
    token_auth: Option<SecretString>,
    cip_mask_bytes: u8,
    /// Permits for forwards in flight: when none is free the hit is shed, never queued.
    in_flight: Arc<Semaphore>,
    max_in_flight: u32,
    metrics: Arc<GateMetrics>,
}

impl MatomoGate {
    /// The gate, or `None` when no upstream is configured.
    pub fn new(
        settings: &MatomoSettings,
        metrics: Arc<GateMetrics>,
    ) -> Result<Option<Self>, reqwest::Error> {
        let Some(upstream) = &settings.upstream_url else {
            return Ok(None);
        };
        // Checked with the settings.
        let upstream = reqwest::Url::parse(upstream).expect("matomo.upstream_url is checked");
        let timeout = Duration::from_millis(settings.timeout_ms);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(settings.max_in_flight)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("zeccloud-consent/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Some(Self {
            upstream,
            client,
            without_consent: settings.without_consent,
            category: settings.category.clone(),
            personal: PersonalFields {
                dimensions: settings.personal_dimensions.iter().copied().collect(),
                custom_variables: settings.personal_custom_variables.iter().cloned().collect(),
            },
            token_auth: settings.token_auth.clone(),
            cip_mask_bytes: settings.cip_mask_bytes,
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
            max_in_flight: u32::try_from(settings.max_in_flight)
                .expect("the settings check keeps max_in_flight small"),
            metrics,
        }))
    }

    /// Waits until every forward in flight has arrived or failed (each is bounded by
    /// `timeout_ms`), taking every slot so that none starts meanwhile: for shutdown.
    pub async fn drain(&self) {
        if let Ok(all) = self.in_flight.acquire_many(self.max_in_flight).await {
            all.forget();
            self.in_flight.close();
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
    ) -> Vec<TrackingHit> {
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
            .filter_map(|hit| match decide(signals, self.without_consent) {
                Verdict::Forward => {
                    self.metrics.hit("forwarded", "consent");
                    Some(hit.for_upstream(&fields))
                }
                Verdict::Anonymise => {
                    self.metrics.hit("anonymised", "no_consent");
                    // No address either: an anonymous hit must not be linkable to the visitor.
                    let anonymous = UpstreamFields {
                        cip: None,
                        visitor_id: None,
                        ..fields
                    };
                    Some(hit.anonymised(&self.personal).for_upstream(&anonymous))
                }
                Verdict::Drop(reason) => {
                    self.metrics.hit("dropped", reason.as_str());
                    None
                }
            })
            .collect()
    }

    /// Sends the hits upstream in the background and returns at once. With every permit taken
    /// the hits are shed (counted and logged), so a slow Matomo never piles up work here.
    pub fn dispatch(&self, shape: Shape, hits: Vec<TrackingHit>) {
        if hits.is_empty() {
            return;
        }
        let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            self.metrics.upstream_error("overloaded");
            tracing::warn!(
                event = "matomo_forward_shed",
                hits = hits.len(),
                "too many forwards in flight; hits shed"
            );
            return;
        };
        let request = self.request(shape, &hits);
        let metrics = Arc::clone(&self.metrics);
        let count = hits.len();
        tokio::spawn(async move {
            let _permit = permit;
            let _in_flight = metrics.forward_started();
            let started = Instant::now();
            let outcome = async {
                let response = request.send().await?;
                let status = response.status();
                // Read the body so the connection can be reused.
                response.bytes().await?;
                Ok::<_, reqwest::Error>(status)
            }
            .await;
            match outcome {
                Ok(status) if status.is_success() => metrics.upstream_latency(started.elapsed()),
                Ok(status) => {
                    metrics.upstream_error("status");
                    tracing::warn!(
                        event = "matomo_forward_failed",
                        kind = "status",
                        status = status.as_u16(),
                        hits = count,
                        "Matomo refused forwarded hits"
                    );
                }
                Err(err) => {
                    let kind = if err.is_timeout() {
                        "timeout"
                    } else if err.is_connect() {
                        "connect"
                    } else {
                        "other"
                    };
                    metrics.upstream_error(kind);
                    // Without the URL: its query holds the hit's fields.
                    tracing::warn!(event = "matomo_forward_failed", kind, hits = count, error = %err.without_url(), "could not forward hits to Matomo");
                }
            }
        });
    }

    fn request(&self, shape: Shape, hits: &[TrackingHit]) -> reqwest::RequestBuilder {
        let token = self.token_auth.as_ref().map(|t| t.expose_secret());
        let with_token = |hit: &TrackingHit| {
            let mut query = hit.to_query();
            if let Some(token) = token {
                query.push('&');
                query.push_str(
                    &form_urlencoded::Serializer::new(String::new())
                        .append_pair("token_auth", token)
                        .finish(),
                );
            }
            query
        };
        match (shape, hits) {
            // With a token every hit goes as a POST: the token never sits in a URL that
            // Matomo's access log would keep.
            (Shape::Query, [hit]) if token.is_none() => {
                let mut url = self.upstream.clone();
                url.set_query(Some(&with_token(hit)));
                self.client.get(url)
            }
            (Shape::Query | Shape::Form, [hit]) => self
                .client
                .post(self.upstream.clone())
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded; charset=UTF-8",
                )
                .body(with_token(hit)),
            (_, hits) => self
                .client
                .post(self.upstream.clone())
                .header(
                    http::header::CONTENT_TYPE,
                    "application/json; charset=UTF-8",
                )
                .body(BulkRequest::upstream_body(hits, token)),
        }
    }
}
