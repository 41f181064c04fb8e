//! Builds the application from settings; `main` and the tests both go through here.

use crate::config::{ConfigError, Settings};
use crate::cookies::CookiePolicy;
use crate::domain::origin::OriginAllowlist;
use crate::domain::receipt::Controller;
use crate::matomo::MatomoGate;
use crate::metrics::Metrics;
use crate::policies::{PolicyRegistry, PublishError};
use crate::routes::embed::EmbedAssets;
use crate::routes::{admin, consent, embed, health, matomo, policy};
use crate::service::ConsentService;
use crate::storage::{self, Storage, StorageError};
use crate::tokens::{ReceiptSigner, TokenSigner};
use crate::visitor::ensure_ssaid;
use app::backend::SharedBackend;
use app::domain::{ExpiryRules, Policy};
use app::{SITE_NAME, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{any, get};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, file_and_error_handler_with_context};
use secrecy::SecretString;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

const SECONDS_PER_DAY: u64 = 24 * 60 * 60;
/// Largest policy file the admin API accepts.
const MAX_POLICY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub storage: Arc<dyn Storage>,
    pub tokens: Arc<TokenSigner>,
    pub cookies: CookiePolicy,
    pub consent: Arc<ConsentService>,
    pub admin_token: Option<Arc<SecretString>>,
    pub embed: Arc<EmbedAssets>,
    /// Sites allowed to embed the banner and call the service with the visitor's cookies.
    pub embed_origins: Arc<OriginAllowlist>,
    /// The gate in front of Matomo; `None` when no upstream is configured.
    pub matomo: Option<Arc<MatomoGate>>,
    pub metrics: Arc<Metrics>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("policy file {path}: {message}")]
    Policy { path: String, message: String },
    #[error("publishing the initial policy: {0}")]
    Publish(#[from] PublishError),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("matomo: {0}")]
    Matomo(String),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let bootstrap = bootstrap_policy(&settings)?;
        let signing_key = settings.load_signing_key()?;
        let tokens = Arc::new(TokenSigner::new(&signing_key));
        let storage = storage::connect(&settings.database_url).await?;
        let policies = Arc::new(
            PolicyRegistry::open(
                Arc::clone(&storage),
                &bootstrap,
                Duration::from_secs(settings.policy_refresh_secs),
            )
            .await?,
        );
        let current = policies.cached();
        let metrics = Arc::new(Metrics::new());
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
        let listener = TcpListener::bind(settings.listen).await?;
        let cookies = CookiePolicy {
            secure: settings.cookie_secure,
            consent_domain: settings.cookie_domain.clone(),
            ssaid_lifetime: Duration::from_secs(
                u64::from(settings.ssaid_lifetime_days) * SECONDS_PER_DAY,
            ),
        };
        let consent = Arc::new(ConsentService {
            storage: Arc::clone(&storage),
            tokens: Arc::clone(&tokens),
            receipts: ReceiptSigner::derive(&signing_key),
            cookies: cookies.clone(),
            policies,
            expiry: ExpiryRules::from_days(
                settings.consent_expiry_days,
                settings.refusal_expiry_days,
            ),
            trust_forwarded_for: settings.trust_forwarded_for,
            controller: Controller {
                name: settings.controller_name.clone(),
                contact: settings.controller_contact.clone(),
            },
            public_url: settings.public_url.clone(),
        });
        let leptos_options = LeptosOptions::builder()
            .output_name(SITE_NAME)
            .site_root(settings.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(listener.local_addr()?)
            .build();
        let state = AppState {
            leptos_options,
            storage,
            tokens,
            cookies,
            consent,
            admin_token: settings.admin_token.clone().map(Arc::new),
            embed: Arc::default(),
            embed_origins: Arc::new(
                OriginAllowlist::parse(settings.embed_origins.iter().map(String::as_str))
                    .map_err(|err| ConfigError::Invalid(err.to_string()))?,
            ),
            matomo,
            metrics,
        };
        tracing::info!(
            policy_version = %current.current().record.version,
            signing_key_id = state.tokens.kid(),
            engine = if settings.database_url.starts_with("sqlite") { "sqlite" } else { "postgres" },
            "consent service ready"
        );
        Ok(Self {
            listener,
            router: router(state, &settings),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // Peer addresses feed the truncated network kept with each consent event.
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
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

/// The app's pages, rendered in order so the banner is in the HTML itself (no script needed).
fn page_routes() -> Vec<AxumRouteListing> {
    app::PAGE_PATHS
        .iter()
        .map(|path| {
            AxumRouteListing::new(
                (*path).to_owned(),
                leptos_router::SsrMode::InOrder,
                [leptos_router::Method::Get],
                Vec::new(),
            )
        })
        .collect()
}

fn router(state: AppState, settings: &Settings) -> Router {
    let backend: SharedBackend = state.consent.clone();
    let provide_backend = move || provide_context(Arc::clone(&backend));
    let leptos_options = state.leptos_options.clone();
    let app_shell = move || shell(leptos_options.clone());

    let api = Router::new()
        .route(
            "/api/v1/consent",
            get(consent::get_consent).post(consent::post_consent),
        )
        .route("/api/v1/consent/{id}/receipt", get(consent::get_receipt))
        .route("/api/{*rest}", any(consent::api_not_found))
        .method_not_allowed_fallback(|| async {
            crate::error::ApiError::new(
                http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not accept that method",
            )
        });

    // Pages, server functions and the API all know the visitor by SSAID.
    let visitor_routes = Router::new()
        .merge(api)
        .leptos_routes_with_context(&state, page_routes(), provide_backend.clone(), app_shell)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ensure_ssaid,
        ));

    // Other ZecCloud sites: CORS with credentials for the allowed origins only.
    let allowed = Arc::clone(&state.embed_origins);
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::predicate(
            move |origin, _| origin.to_str().is_ok_and(|origin| allowed.allows(origin)),
        ))
        .allow_credentials(true)
        .allow_methods([http::Method::GET, http::Method::POST])
        .allow_headers([http::header::CONTENT_TYPE]);
    let embed_for_visitors = Router::new()
        .route("/embed/banner", get(embed::banner))
        .route("/embed/preferences", get(embed::preferences))
        .route("/embed/consent", axum::routing::post(embed::record))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ensure_ssaid,
        ))
        .layer(cors.clone());
    let embed_assets = Router::new()
        .route("/embed.js", get(embed::loader))
        .route("/embed/{file}", get(embed::stylesheet))
        .layer(cors.clone());

    // Matomo's tracker posts bulk requests larger than any consent request; no SSAID is issued
    // to a tracking request.
    let tracking = Router::new()
        .route("/matomo.php", get(matomo::track).post(matomo::track))
        .route("/piwik.php", get(matomo::track).post(matomo::track))
        .layer(DefaultBodyLimit::max(settings.matomo.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(settings.matomo.max_body_bytes))
        .layer(cors);

    // Policy documents need no visitor identity: no SSAID is issued for them.
    let public = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/.well-known/jwks.json", get(policy::jwks))
        .route("/api/v1/policy", get(policy::current_policy))
        .route("/api/v1/policy/{version}", get(policy::policy_version));

    // A policy file with every language is larger than any visitor request.
    let admin = Router::new()
        .route(
            "/api/v1/admin/policies",
            get(admin::list_policies).post(admin::publish_policy),
        )
        .route("/metrics", get(admin::metrics))
        .layer(DefaultBodyLimit::max(MAX_POLICY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_POLICY_BYTES));

    let limited = Router::new()
        .merge(public)
        .merge(embed_for_visitors)
        .merge(embed_assets)
        .merge(visitor_routes)
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            provide_backend,
            shell,
        ))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(settings.max_body_bytes));

    Router::new()
        .merge(admin)
        .merge(tracking)
        .merge(limited)
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.request_timeout_secs),
        ))
        .layer(axum::middleware::map_response(
            crate::error::json_for_layer_rejections,
        ))
        // The path only: query strings carry tracking hits' identifiers.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
                tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
            }),
        )
        .with_state(state)
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
