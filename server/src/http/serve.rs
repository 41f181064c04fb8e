//! The connection loop, in place of `axum::serve`, for what it does not offer: a cap on open
//! connections and a header-read timeout (so thousands of slow or half-open sockets cannot pin
//! the server), and a shutdown that drains in-flight requests and then the Matomo forwards
//! still on their way, within one deadline.

use crate::service::matomo_gate::MatomoGate;
use crate::service::risk::RiskControl;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::Service;

/// How connections are served and how long shutdown may take.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// A client must send its request headers within this time.
    pub header_read_timeout: Duration,
    /// Connections open at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// How long shutdown waits for requests and Matomo forwards in flight.
    pub shutdown_timeout: Duration,
}

/// What is still on its way when requests are done: Matomo forwards, and the risk counters
/// gathered in memory since their last flush.
pub struct InFlight {
    pub matomo: Option<Arc<MatomoGate>>,
    pub risk: Arc<RiskControl>,
}

impl InFlight {
    async fn settle(&self) {
        if let Some(gate) = &self.matomo {
            gate.drain().await;
        }
        if let Err(err) = self.risk.flush().await {
            tracing::warn!(error = %err, "risk counters not flushed at shutdown");
        }
    }
}

/// Serves `router` until `shutdown` resolves, then stops accepting, lets every open request
/// finish, every Matomo forward arrive and the risk counters reach storage (all within
/// `shutdown_timeout`), and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    in_flight: InFlight,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Peer addresses feed the truncated network kept with each consent event.
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => {
                permit.expect("the connection semaphore is never closed")
            }
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Pages stream in several writes: with Nagle's algorithm each write after the first
        // waits for the client's delayed ACK (40 ms on Linux), which capped a connection at
        // about 24 pages a second however idle the CPU.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
        let service = match make_service.call(peer).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away mid-request is its own business, not the server's.
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = graceful.count();
    let drain = async {
        graceful.shutdown().await;
        in_flight.settle().await;
    };
    if tokio::time::timeout(limits.shutdown_timeout, drain)
        .await
        .is_err()
    {
        tracing::warn!(
            open_connections_at_shutdown = open,
            "shutdown deadline passed with requests, Matomo forwards or counters still in flight"
        );
    }
    Ok(())
}
