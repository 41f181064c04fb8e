//! The application state every handler shares. Each part is held once; handlers take the
//! parts they need (`State<Arc<PolicyRegistry>>`, …) through `FromRef`.

use crate::domain::network::TrustedProxies;
use crate::domain::origin::OriginAllowlist;
use crate::http::ServiceCredential;
use crate::http::embed_assets::EmbedAssets;
use crate::http::rate_limit::RateLimits;
use crate::infra::metrics::Metrics;
use crate::infra::tokens::TokenSigner;
use crate::service::ConsentService;
use crate::service::console::ConsoleService;
use crate::service::matomo_erasure::MatomoEraser;
use crate::service::matomo_gate::MatomoGate;
use crate::service::policies::PolicyRegistry;
use crate::service::retention::Retention;
use crate::service::risk::RiskControl;
use crate::storage::Storage;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use secrecy::SecretString;
use std::sync::Arc;

/// The state, behind one `Arc`: axum clones it for every request (each handler and each layer
/// with state), and cloning a dozen `Arc`s and the Leptos options was 13 % of the CPU of
/// `GET /api/v1/consent`.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl AppState {
    pub fn new(shared: SharedState) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

pub struct SharedState {
    pub leptos_options: LeptosOptions,
    /// The consent core, which owns storage, signing, the cookie policy and the policies.
    pub consent: Arc<ConsentService>,
    pub edge: Arc<Edge>,
    pub embed: Arc<EmbedAssets>,
    /// The gate in front of Matomo; `None` when no upstream is configured.
    pub matomo: Option<Arc<MatomoGate>>,
    pub metrics: Arc<Metrics>,
    /// Budgets per client network for decisions and new visitors.
    pub limits: Arc<RateLimits>,
    /// SSAID risk control: network counters, sightings, assessments.
    pub risk: Arc<RiskControl>,
    /// The retention purge (§04).
    pub retention: Arc<Retention>,
    /// Carries erasures through to Matomo; `None` without its Reporting API.
    pub matomo_eraser: Option<Arc<MatomoEraser>>,
    /// What the operator console's pages show.
    pub console: Arc<ConsoleService>,
}

/// How this deployment's requests are read and who may call it: settings of the HTTP edge.
pub struct Edge {
    /// The proxies whose `X-Forwarded-For` is read; nobody's when empty.
    pub trusted_proxies: TrustedProxies,
    /// The service's public base URL, when configured; otherwise the request's Host.
    pub public_url: Option<String>,
    /// Sites allowed to embed the banner and call the service with the visitor's cookies.
    pub embed_origins: OriginAllowlist,
    /// The admin API's bearer token; the admin API is off without one.
    pub admin_token: Option<SecretString>,
    /// The back ends that may assess SSAIDs; the assessment API is off without any.
    pub services: Vec<ServiceCredential>,
    /// The console's session keys, derived from the admin token; the console is off without.
    pub console_sessions: Option<Arc<crate::http::console_session::SessionKeys>>,
}

/// `FromRef` for each part a handler may ask for, without cloning the whole state.
macro_rules! state_parts {
    ($($part:ty => |$state:ident| $get:expr;)*) => {
        $(impl FromRef<AppState> for $part {
            fn from_ref($state: &AppState) -> Self {
                $get
            }
        })*
    };
}

state_parts! {
    LeptosOptions => |state| state.leptos_options.clone();
    Arc<ConsentService> => |state| Arc::clone(&state.consent);
    Arc<ConsoleService> => |state| Arc::clone(&state.console);
    Arc<PolicyRegistry> => |state| Arc::clone(&state.consent.policies);
    Arc<dyn Storage> => |state| Arc::clone(&state.consent.storage);
    Arc<TokenSigner> => |state| Arc::clone(&state.consent.tokens);
    Arc<Edge> => |state| Arc::clone(&state.edge);
    Arc<EmbedAssets> => |state| Arc::clone(&state.embed);
    Arc<Metrics> => |state| Arc::clone(&state.metrics);
    Arc<RiskControl> => |state| Arc::clone(&state.risk);
    Arc<Retention> => |state| Arc::clone(&state.retention);
}
