//! Builds the application from settings; `main` and the tests both go through here.

use crate::domain::network::TrustedProxies;
use crate::domain::origin::OriginAllowlist;
use crate::domain::receipt::Controller;
use crate::http::ServiceCredential;
use crate::http::console_session::SessionKeys;
use crate::http::edge::{CountryLookup, Edge};
use crate::http::rate_limit::RateLimits;
use crate::http::serve::{InFlight, ServeLimits, serve};
use crate::infra::clock::Clock;
use crate::infra::config::{ConfigError, Settings};
use crate::infra::cookies::CookiePolicy;
use crate::infra::metrics::Metrics;
use crate::infra::tokens::{ReceiptSigner, TokenSigner};
use crate::routes;
use crate::routes::ops::OpsState;
use crate::service::console::history::CounterHistory;
use crate::service::console::{Configured, ConsoleService};
use crate::service::log::ConsentLog;
use crate::service::matomo_erasure::{MatomoEraser, MatomoPrivacyApi};
use crate::service::matomo_gate::MatomoGate;
use crate::service::observations::Observations;
use crate::service::policies::{PolicyRegistry, PublishError};
use crate::service::retention::Retention;
use crate::service::risk::RiskControl;
use crate::service::{ConsentService, PseudonymKey};
use crate::state::{AppState, SharedState};
use crate::storage::{self, StorageError};
use app::SITE_NAME;
use app::domain::{ExpiryRules, Policy};
use axum::Router;
use leptos::config::LeptosOptions;
use secrecy::ExposeSecret;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

const SECONDS_PER_DAY: u64 = 24 * 60 * 60;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("geoip_database: {0}")]
    GeoIp(#[from] crate::infra::geoip::GeoIpError),
    #[error("policy file {path}: {message}")]
    Policy { path: String, message: String },
    #[error("publishing the initial policy: {0}")]
    Publish(#[from] PublishError),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("consent log: {0}")]
    Log(#[from] crate::service::log::LogError),
    #[error("matomo: {0}")]
    Matomo(String),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    ops_listener: TcpListener,
    ops_router: Router,
    /// Set when shutdown begins: readiness answers 503 from then on.
    draining: Arc<AtomicBool>,
    limits: ServeLimits,
    in_flight: InFlight,
    /// Signs a last head once requests have drained.
    log: Arc<ConsentLog>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    /// As [`Application::build`], with the clock every part of the service reads (tests run
    /// the service "as of" a date with a fixed one).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> Result<Self, StartupError> {
        // Settings built in code (tests, embedders) are held to the same rules as loaded ones.
        settings.check()?;
        let consent = consent_service(&settings, clock.clone()).await?;
        let policies = Arc::clone(&consent.policies);
        let tokens = Arc::clone(&consent.tokens);
        let current = policies.cached();
        let metrics = Arc::new(Metrics::new(tokens.refusals(), &consent.counters));
        let matomo = MatomoGate::new(&settings.matomo, Arc::clone(&metrics.matomo))
            .map_err(|err| StartupError::Matomo(err.to_string()))?
            .map(Arc::new);
        if matomo.is_some()
            && current
                .current()
                .policy
                .category(&settings.matomo.category)
                .is_none()
        {
            return Err(StartupError::Matomo(format!(
                "category {:?} is not in the current policy, so no hit could ever be forwarded",
                settings.matomo.category
            )));
        }
        let log_signer = settings.load_log_signer()?;
        let log = ConsentLog::open(
            consent.storage.clone(),
            settings.log_verifiers(&log_signer),
            log_signer,
            Duration::from_secs(settings.log.head_interval_secs),
            clock.clone(),
        )
        .await?;
        log.spawn_heads();
        let listener = TcpListener::bind(settings.listen).await?;
        let ops_listener = TcpListener::bind(settings.ops_listen).await?;
        consent.revoked.spawn_refresh(
            consent.storage.clone(),
            Duration::from_secs(settings.policy_refresh_secs),
            clock,
        );
        let edge = Arc::new(Edge {
            country: country_lookup(&settings)?,
            trusted_proxies: TrustedProxies::parse(
                settings.trusted_proxies.iter().map(String::as_str),
            )
            .map_err(|err| ConfigError::Invalid(err.to_string()))?,
            public_url: settings.public_url.clone(),
            embed_origins: OriginAllowlist::parse(
                settings.embed_origins.iter().map(String::as_str),
            )
            .map_err(|err| ConfigError::Invalid(err.to_string()))?,
            admin_token: settings.admin_token.clone(),
            console_sessions: settings.admin_token.as_ref().map(|token| {
                Arc::new(SessionKeys::new(
                    token,
                    chrono::TimeDelta::minutes(i64::from(settings.admin_session_minutes)),
                ))
            }),
            services: settings
                .services
                .iter()
                .map(|service| {
                    ServiceCredential::new(service.name.clone(), service.token.expose_secret())
                })
                .collect(),
        });
        let leptos_options = LeptosOptions::builder()
            .output_name(SITE_NAME)
            .site_root(settings.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(listener.local_addr()?)
            .build();
        tracing::info!(
            policy_version = %current.current().record.version,
            signing_key_id = consent.tokens.kid(),
            engine = if settings.database_url.starts_with("sqlite") { "sqlite" } else { "postgres" },
            "consent service ready"
        );
        let limits = Arc::new(RateLimits::new(
            &settings.rate_limits,
            &edge.trusted_proxies,
        ));
        let risk = Arc::new(RiskControl::new(
            consent.storage.clone(),
            consent.storage.clone(),
            Arc::clone(&consent.tokens),
            settings.risk.clone(),
            consent.clock.clone(),
            consent.pseudonym_key.clone(),
        ));
        risk.spawn_upkeep();
        let retention = Arc::new(retention_for(
            &settings,
            &consent,
            Some(Arc::clone(&metrics)),
        ));
        retention.spawn_hourly();
        // Held by the state, so the worker ends with the service.
        let matomo_eraser = matomo_eraser(&settings, &consent, &metrics)?.map(Arc::new);
        if let Some(eraser) = &matomo_eraser {
            eraser.spawn();
        }
        limits.spawn_cleanup();
        let history = Arc::new(CounterHistory::default());
        history.spawn_sampling(Arc::clone(&metrics), consent.clock.clone());
        let configured = Configured {
            gate: matomo.is_some(),
            erasures: matomo_eraser.is_some(),
        };
        let console = ConsoleService::new(
            &consent,
            Arc::clone(&log),
            Arc::clone(&metrics),
            history,
            configured,
        );
        let observations = Arc::new(Observations::new(
            consent.storage.clone(),
            consent.storage.clone(),
            Arc::clone(&consent.policies),
            consent.clock.clone(),
            Arc::clone(&metrics),
            settings.observations.sample_rate,
        ));
        let in_flight = InFlight {
            matomo: matomo.clone(),
            risk: Arc::clone(&risk),
        };
        let state = AppState::new(SharedState {
            leptos_options,
            consent,
            edge,
            embed: Arc::default(),
            matomo: matomo.clone(),
            metrics,
            limits,
            risk,
            retention,
            matomo_eraser,
            console: Arc::new(console),
            log: Arc::clone(&log),
            observations,
        });
        let draining = Arc::new(AtomicBool::new(false));
        let ops_router = routes::every_answer(
            routes::ops::router(OpsState {
                storage: state.consent.storage.clone(),
                metrics: Arc::clone(&state.metrics),
                token: settings.ops_token.clone(),
                draining: Arc::clone(&draining),
            }),
            &settings,
        );
        Ok(Self {
            listener,
            router: routes::router(state, &settings),
            ops_listener,
            ops_router,
            draining,
            limits: ServeLimits {
                header_read_timeout: Duration::from_secs(settings.header_read_timeout_secs),
                max_connections: settings.max_connections,
                shutdown_timeout: Duration::from_secs(settings.shutdown_timeout_secs),
            },
            in_flight,
            log,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then drains requests and Matomo forwards in flight
    /// within `shutdown_timeout_secs`.
    /// The operations listener's address.
    pub fn ops_addr(&self) -> SocketAddr {
        self.ops_listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown`, then drains. The operations listener answers throughout
    /// (readiness turns 503 as soon as shutdown begins) and stops last.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (ops_stop, ops_stopped) = tokio::sync::oneshot::channel::<()>();
        let ops = tokio::spawn(
            axum::serve(self.ops_listener, self.ops_router)
                .with_graceful_shutdown(async move {
                    let _ = ops_stopped.await;
                })
                .into_future(),
        );
        let draining = Arc::clone(&self.draining);
        let shutdown = async move {
            shutdown.await;
            draining.store(true, Ordering::SeqCst);
        };
        let served = serve(
            self.listener,
            self.router,
            self.limits,
            self.in_flight,
            shutdown,
        )
        .await;
        // The decisions of the last seconds are in a signed head before the process ends.
        if let Err(err) = self.log.make_head().await {
            tracing::warn!(error = %err, "could not sign the last log head");
        }
        let _ = ops_stop.send(());
        if let Err(err) = ops.await.unwrap_or(Ok(())) {
            tracing::warn!(error = %err, "operations listener ended with an error");
        }
        served
    }
}

/// The consent core on the configured storage, with its policies, keys and cookie rules:
/// for the service and for the commands that act on stored data (`server subject …`).
pub async fn consent_service(
    settings: &Settings,
    clock: Clock,
) -> Result<Arc<ConsentService>, StartupError> {
    let bootstrap = bootstrap_policy(settings)?;
    let keys = settings.load_key_ring()?;
    let tokens = Arc::new(TokenSigner::ring(&keys));
    let storage = storage::connect(&settings.database_url).await?;
    let policies = Arc::new(
        PolicyRegistry::open(
            storage.clone(),
            &bootstrap,
            Duration::from_secs(settings.policy_refresh_secs),
            clock.clone(),
        )
        .await?,
    );
    let cookies = CookiePolicy {
        secure: settings.cookie_secure,
        consent_domain: settings.cookie_domain.clone(),
        ssaid_lifetime: Duration::from_secs(
            u64::from(settings.ssaid_lifetime_days) * SECONDS_PER_DAY,
        ),
    };
    Ok(Arc::new(ConsentService {
        decisions: crate::service::consent::group_commit::DecisionWriter::spawn(storage.clone()),
        storage,
        tokens,
        receipts: ReceiptSigner::ring(&keys),
        cookies,
        policies,
        expiry: ExpiryRules::from_days(settings.consent_expiry_days, settings.refusal_expiry_days),
        controller: Controller {
            name: settings.controller_name.clone(),
            contact: settings.controller_contact.clone(),
            address: settings.controller_address.clone(),
        },
        record_storage: crate::domain::receipt::RecordStorage::new(
            settings.record_locations.clone(),
            settings.retention.proof_retention_days,
        ),
        clock,
        revoked: Arc::default(),
        pseudonym_key: PseudonymKey::new(settings.load_pseudonym_key(&keys)?),
        matomo_erasure: settings.matomo.api_url.is_some(),
        counters: Arc::default(),
        // About the policy reread's wait plus a connection's: long enough that an outage costs
        // one slow answer per second, short enough that recovery is seen within a second.
        storage_breaker: crate::service::consent::breaker::StorageBreaker::new(
            Duration::from_secs(1),
        ),
    }))
}

/// The worker that carries erasures through to Matomo, when its Reporting API is configured.
fn matomo_eraser(
    settings: &Settings,
    consent: &ConsentService,
    metrics: &Arc<Metrics>,
) -> Result<Option<MatomoEraser>, StartupError> {
    let matomo = &settings.matomo;
    let (Some(url), Some(token)) = (&matomo.api_url, &matomo.api_token) else {
        return Ok(None);
    };
    let url = reqwest::Url::parse(url).map_err(|err| StartupError::Matomo(err.to_string()))?;
    let api = MatomoPrivacyApi::new(
        url,
        token.clone(),
        matomo.site_ids.clone(),
        Duration::from_secs(30),
    )
    .map_err(|err| StartupError::Matomo(err.to_string()))?;
    Ok(Some(MatomoEraser::new(
        consent.storage.clone(),
        api,
        consent.clock.clone(),
        Duration::from_secs(matomo.erasure_retry_secs),
        matomo.erasure_max_attempts,
        Arc::clone(metrics),
    )))
}

/// The retention purge over the consent core's storage, as the settings say.
pub fn retention_for(
    settings: &Settings,
    consent: &ConsentService,
    metrics: Option<Arc<Metrics>>,
) -> Retention {
    let longest_choice =
        chrono::TimeDelta::seconds(consent.expiry.consent_secs.max(consent.expiry.refusal_secs));
    Retention::new(
        consent.storage.clone(),
        settings.retention.clone(),
        settings.sightings_retention_days,
        longest_choice,
        consent.clock.clone(),
        metrics,
    )
}

/// The policy published on first start, when no version is published yet; checked at every
/// start so a broken `policy_file` is reported at once.
fn bootstrap_policy(settings: &Settings) -> Result<String, StartupError> {
    let (path, source) = match &settings.policy_file {
        Some(path) => {
            let source = std::fs::read_to_string(path).map_err(|err| StartupError::Policy {
                path: path.display().to_string(),
                message: err.to_string(),
            })?;
            (path.display().to_string(), source)
        }
        None => (
            "(embedded default)".to_owned(),
            app::DEFAULT_POLICY_TOML.to_owned(),
        ),
    };
    Policy::from_toml(&source).map_err(|err| StartupError::Policy {
        path,
        message: err.to_string(),
    })?;
    Ok(source)
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before exit.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c()
            .await
            .expect("failed to listen for Ctrl-C");
    };
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("failed to listen for SIGTERM")
            .recv()
            .await;
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// How country is read: `country_header` (checked to be a header name by the settings), and
/// `geoip_database`, opened now so a missing file stops the start, and watched for
/// replacements (operators update GeoLite2 weekly).
fn country_lookup(settings: &Settings) -> Result<CountryLookup, StartupError> {
    let header = settings
        .country_header
        .as_deref()
        .map(|name| {
            http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|err| ConfigError::Invalid(format!("country_header {name:?}: {err}")))
        })
        .transpose()?;
    let geoip = settings
        .geoip_database
        .as_deref()
        .map(|path| crate::infra::geoip::GeoIp::open(path).map(Arc::new))
        .transpose()?;
    if let Some(geoip) = &geoip {
        geoip.watch(GEOIP_CHECK_INTERVAL);
    }
    Ok(CountryLookup { header, geoip })
}

/// How often the GeoIP file is checked for a replacement.
const GEOIP_CHECK_INTERVAL: Duration = Duration::from_secs(60);
