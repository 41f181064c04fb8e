//! Rate limits per client network (an IPv4 address, an IPv6 /64, as [`client_network`] says),
//! with `tower_governor`: decisions have one budget, new visitors (requests that are issued an
//! SSAID) another. Over budget: 429 `rate_limited` with `Retry-After`, and nothing written.

use super::edge::client_ip_of;
use crate::domain::network::{TrustedProxies, client_network};
use crate::error::ApiError;
use crate::infra::config::RateLimitSettings;
use crate::infra::metrics::Metrics;
use app::ErrorCode;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use http::{HeaderValue, Method, Request, header};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

/// The key a request counts against: its client network.
#[derive(Debug, Clone)]
pub struct ClientNetwork {
    proxies: TrustedProxies,
}

impl ClientNetwork {
    pub fn of<T>(&self, request: &Request<T>) -> IpAddr {
        // Without connect info (never the case when served) every request shares one budget.
        client_ip_of(request.headers(), request.extensions(), &self.proxies)
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), client_network)
    }
}

impl KeyExtractor for ClientNetwork {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        Ok(self.of(request))
    }
}

type Config = tower_governor::governor::GovernorConfig<ClientNetwork, NoOpMiddleware>;

/// One budget: a rate per minute and a burst, per client network.
pub struct Limit {
    name: &'static str,
    key: ClientNetwork,
    config: Arc<Config>,
}

impl Limit {
    fn new(name: &'static str, per_minute: u32, burst: u32, key: ClientNetwork) -> Self {
        let config = tower_governor::governor::GovernorConfigBuilder::default()
            .period(Duration::from_secs(60) / per_minute.max(1))
            .burst_size(burst.max(1))
            // The layer counts only what changes state; reads are never limited by it.
            .methods(vec![
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .key_extractor(key.clone())
            .finish()
            .expect("the settings check keeps rates and bursts above 0");
        Self {
            name,
            key,
            config: Arc::new(config),
        }
    }

    /// Takes one request from the budget of the request's network; over budget, the 429 to
    /// answer instead.
    pub fn over_budget<T>(&self, request: &Request<T>, metrics: &Metrics) -> Option<Response> {
        let network = self.key.of(request);
        let not_until = self.config.limiter().check_key(&network).err()?;
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        Some(too_many(self.name, wait.as_secs(), metrics))
    }

    /// A layer that limits every state-changing request (safe methods pass).
    pub fn layer(
        &self,
        metrics: Arc<Metrics>,
    ) -> GovernorLayer<ClientNetwork, NoOpMiddleware, axum::body::Body> {
        let name = self.name;
        GovernorLayer::new(Arc::clone(&self.config)).error_handler(move |error| match error {
            GovernorError::TooManyRequests { wait_time, .. } => too_many(name, wait_time, &metrics),
            other => ApiError::internal(other).into_response(),
        })
    }

    /// Forgets networks whose budget is full again, so the table does not grow without bound.
    fn forget_idle(&self) {
        self.config.limiter().retain_recent();
        self.config.limiter().shrink_to_fit();
    }
}

/// 429 in the API's error format, with `Retry-After` in whole seconds (at least one: the
/// budget refills continuously, and "0" would invite a retry storm).
fn too_many(name: &'static str, wait_secs: u64, metrics: &Metrics) -> Response {
    metrics.rate_limited(name);
    let wait_secs = wait_secs.max(1);
    let mut response = ApiError::new(
        ErrorCode::RateLimited,
        format!("too many requests from your network; try again in {wait_secs} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait_secs));
    response
}

/// The service's budgets.
pub struct RateLimits {
    pub decisions: Limit,
    pub new_visitors: Limit,
    /// Console sign-in attempts.
    pub sign_in: Limit,
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings, proxies: &TrustedProxies) -> Self {
        let key = ClientNetwork {
            proxies: proxies.clone(),
        };
        Self {
            decisions: Limit::new(
                "decisions",
                settings.decisions_per_minute,
                settings.decisions_burst,
                key.clone(),
            ),
            new_visitors: Limit::new(
                "new_visitors",
                settings.new_visitors_per_minute,
                settings.new_visitors_burst,
                key.clone(),
            ),
            sign_in: Limit::new(
                "sign_in",
                settings.sign_in_per_minute,
                settings.sign_in_burst,
                key,
            ),
        }
    }

    /// Every minute, forgets idle networks; stops when the service is dropped.
    pub fn spawn_cleanup(self: &Arc<Self>) {
        let limits = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut every_minute = tokio::time::interval(Duration::from_secs(60));
            loop {
                every_minute.tick().await;
                let Some(limits) = limits.upgrade() else {
                    return;
                };
                limits.decisions.forget_idle();
                limits.new_visitors.forget_idle();
                limits.sign_in.forget_idle();
            }
        });
    }
}
