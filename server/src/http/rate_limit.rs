//! Rate limits per client network (an IPv4 address, an IPv6 /64, as [`client_network`] says),
//! with `tower_governor`: decisions have one budget, new visitors (requests that are issued an
//! SSAID) another, admin token attempts (the console's sign-in form and wrong bearer tokens on
//! the admin API) a third, the embed loader's reports of undeclared identifiers a fourth. Over budget: 429 `rate_limited` with `Retry-After`, and nothing
//! written.

use super::edge::client_ip_of;
use crate::domain::network::{TrustedProxies, client_network};
use crate::error::ApiError;
use crate::infra::config::RateLimitSettings;
use crate::infra::metrics::Metrics;
use app::ErrorCode;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use http::{Extensions, HeaderMap, HeaderValue, Method, Request, header};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

/// The key a request counts against: its client network.
#[derive(Debug, Clone)]
pub struct ClientNetwork {
    proxies: TrustedProxies,
}

impl ClientNetwork {
    pub fn of<T>(&self, request: &Request<T>) -> IpAddr {
        self.of_parts(request.headers(), request.extensions())
    }

    /// The network of a request known by its headers and extensions (an extractor's parts).
    pub fn of_parts(&self, headers: &HeaderMap, extensions: &Extensions) -> IpAddr {
        // Without connect info (never the case when served) every request shares one budget.
        client_ip_of(headers, extensions, &self.proxies)
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
        self.spend(self.key.of(request), metrics)
    }

    /// The network a request counts against.
    pub fn network_of(&self, headers: &HeaderMap, extensions: &Extensions) -> IpAddr {
        self.key.of_parts(headers, extensions)
    }

    /// Takes one attempt from `network`'s budget; over budget, the 429 to answer instead.
    pub fn spend(&self, network: IpAddr, metrics: &Metrics) -> Option<Response> {
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
    /// Attempts at the admin token: every post of the console's sign-in form, and every admin
    /// API request from a network in `wrong_admin_tokens`. One budget for both doors, so
    /// guessing through both is no faster than through one.
    pub sign_in: Limit,
    pub wrong_admin_tokens: WrongTokenNetworks,
    /// Reports of undeclared identifiers, apart from decisions: a page's report never costs
    /// its visitor a decision.
    pub observations: Limit,
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
                key.clone(),
            ),
            observations: Limit::new(
                "observations",
                settings.observations_per_minute,
                settings.observations_burst,
                key,
            ),
            wrong_admin_tokens: WrongTokenNetworks::new(
                settings.sign_in_per_minute,
                settings.sign_in_burst,
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
                limits.observations.forget_idle();
                limits.wrong_admin_tokens.forget_old();
            }
        });
    }
}

/// Networks that presented a wrong admin token lately. While a network is listed, every admin
/// token it presents, right or wrong, spends the sign-in budget, as every sign-in post does:
/// otherwise, over budget, a right guess (answered) would stand out from wrong ones (429), and
/// the budget would not bound guessing. A network that never guessed wrong is not counted, so
/// scripts using the admin API are not limited by the console's sign-in budget.
pub struct WrongTokenNetworks {
    /// When each network last presented a wrong token.
    last_wrong: Mutex<HashMap<IpAddr, Instant>>,
    /// How long a network stays listed: as long as its budget takes to refill from empty.
    memory: Duration,
}

impl WrongTokenNetworks {
    fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            last_wrong: Mutex::default(),
            memory: Duration::from_secs(60) / per_minute.max(1) * burst.max(1),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Instant>> {
        // A panic while holding the lock leaves a table of instants, still consistent.
        self.last_wrong
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn record(&self, network: IpAddr) {
        self.table().insert(network, Instant::now());
    }

    pub fn is_listed(&self, network: IpAddr) -> bool {
        self.table()
            .get(&network)
            .is_some_and(|last| last.elapsed() < self.memory)
    }

    fn forget_old(&self) {
        let memory = self.memory;
        let mut table = self.table();
        table.retain(|_, last| last.elapsed() < memory);
        table.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_is_listed_after_a_wrong_token_only() {
        let networks = WrongTokenNetworks::new(5, 5);
        let guesser: IpAddr = "203.0.113.9".parse().unwrap();
        let other: IpAddr = "198.51.100.7".parse().unwrap();
        assert!(!networks.is_listed(guesser));
        networks.record(guesser);
        assert!(networks.is_listed(guesser));
        assert!(!networks.is_listed(other));
        networks.forget_old();
        assert!(
            networks.is_listed(guesser),
            "remembered while the budget refills"
        );
    }

    #[test]
    fn a_network_is_remembered_as_long_as_the_budget_takes_to_refill() {
        assert_eq!(
            WrongTokenNetworks::new(5, 5).memory,
            Duration::from_secs(60)
        );
        assert_eq!(
            WrongTokenNetworks::new(1, 3).memory,
            Duration::from_secs(180)
        );
    }
}
