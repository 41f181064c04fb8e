//! The application state every handler shares. Each part is held once; handlers take the
//! parts they need (`State<Arc<PolicyRegistry>>`, …) through `FromRef`.

use crate::http::edge::Edge;
use crate::http::embed_assets::EmbedAssets;
use crate::http::rate_limit::RateLimits;
use crate::infra::metrics::Metrics;
use crate::infra::tokens::TokenSigner;
use crate::service::ConsentService;
use crate::service::console::ConsoleService;
use crate::service::matomo_erasure::MatomoEraser;
use crate::service::matomo_gate::MatomoGate;
use crate::service::observations::Observations;
use crate::service::policies::PolicyRegistry;
use crate::service::retention::Retention;
use crate::service::risk::RiskControl;
use crate::storage::MatomoJobStore;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
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
    /// The consent log: its tree, heads and proofs.
    pub log: Arc<crate::service::log::ConsentLog>,
    /// Passive reports of undeclared identifiers: counted, and shown on the console.
    pub observations: Arc<Observations>,
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
    Arc<dyn MatomoJobStore> => |state| state.consent.storage.clone();
    Arc<TokenSigner> => |state| Arc::clone(&state.consent.tokens);
    Arc<Edge> => |state| Arc::clone(&state.edge);
    Arc<EmbedAssets> => |state| Arc::clone(&state.embed);
    Arc<Metrics> => |state| Arc::clone(&state.metrics);
    Arc<RiskControl> => |state| Arc::clone(&state.risk);
    Arc<Retention> => |state| Arc::clone(&state.retention);
    Arc<crate::service::log::ConsentLog> => |state| Arc::clone(&state.log);
    Arc<Observations> => |state| Arc::clone(&state.observations);
}
