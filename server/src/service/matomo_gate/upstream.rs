//! The gate's one upstream: Matomo's tracking endpoint behind a pooled keep-alive HTTP/1.1
//! client (TLS when the URL is https), each forward one request with a time limit.

use crate::infra::metrics::UpstreamError;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;

/// The one upstream: a pooled keep-alive HTTP/1.1 client, and its URL split into the parts
/// each request reuses, so that a hit costs no URL parsing.
pub(super) struct Upstream {
    pool: Pool,
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    path: String,
    /// Basic credentials written in `upstream_url`, as reqwest (used before) sent them.
    authorization: Option<http::HeaderValue>,
    timeout: Duration,
}

/// Plain HTTP needs no root certificates: a gate in front of an internal Matomo over http
/// starts on a host without a CA bundle.
enum Pool {
    Plain(Client<HttpConnector, String>),
    Tls(Client<HttpsConnector<HttpConnector>, String>),
}

const USER_AGENT: http::HeaderValue =
    http::HeaderValue::from_static(concat!("zeccloud-consent/", env!("CARGO_PKG_VERSION")));
pub(super) const FORM: http::HeaderValue =
    http::HeaderValue::from_static("application/x-www-form-urlencoded; charset=UTF-8");
pub(super) const JSON: http::HeaderValue =
    http::HeaderValue::from_static("application/json; charset=UTF-8");
/// Matomo answers a GIF, 204 or a short JSON status; anything longer is not read whole.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why the upstream could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamSetupError {
    #[error("upstream_url {0:?} is not a usable http(s) URL")]
    Url(String),
    #[error("no root certificates for an https upstream: {0}")]
    Roots(std::io::Error),
}

impl Upstream {
    pub(super) fn new(
        url: &str,
        timeout: Duration,
        max_idle: usize,
    ) -> Result<Self, UpstreamSetupError> {
        let invalid = || UpstreamSetupError::Url(url.to_owned());
        // Parsed as before (and as the settings check does), so the same URLs are accepted.
        let url = reqwest::Url::parse(url).map_err(|_| invalid())?;
        let host = url.host_str().ok_or_else(invalid)?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let authorization = (!url.username().is_empty()).then(|| {
            use base64::Engine as _;
            let decode = |text: &str| {
                percent_encoding::percent_decode_str(text)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            let credentials = format!(
                "{}:{}",
                decode(url.username()),
                decode(url.password().unwrap_or_default())
            );
            let mut value = http::HeaderValue::try_from(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ))
            .expect("base64 is a valid header value");
            value.set_sensitive(true);
            value
        });
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        // Hits are small: waiting to fill a segment only delays them.
        connector.set_nodelay(true);
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_max_idle_per_host(max_idle)
            .pool_timer(TokioTimer::new());
        let pool = match url.scheme() {
            "http" => Pool::Plain(builder.build(connector)),
            "https" => {
                connector.enforce_http(false);
                let tls = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_native_roots()
                    .map_err(UpstreamSetupError::Roots)?
                    .https_only()
                    .enable_http1()
                    .wrap_connector(connector);
                Pool::Tls(builder.build(tls))
            }
            _ => return Err(invalid()),
        };
        Ok(Self {
            pool,
            scheme: url.scheme().parse().map_err(|_| invalid())?,
            authority: authority.parse().map_err(|_| invalid())?,
            path: url.path().to_owned(),
            authorization,
            timeout,
        })
    }

    /// A request to the upstream's URL, with `query` as its query string when given.
    pub(super) fn request(
        &self,
        method: http::Method,
        query: Option<&str>,
        content_type: Option<http::HeaderValue>,
        body: String,
    ) -> Result<http::Request<String>, http::Error> {
        let path_and_query = match query {
            Some(query) => {
                let mut text = String::with_capacity(self.path.len() + 1 + query.len());
                text.push_str(&self.path);
                text.push('?');
                text.push_str(query);
                http::uri::PathAndQuery::try_from(text)?
            }
            None => http::uri::PathAndQuery::try_from(self.path.as_str())?,
        };
        let uri = http::Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()?;
        let mut request = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::USER_AGENT, USER_AGENT);
        if let Some(content_type) = content_type {
            request = request.header(http::header::CONTENT_TYPE, content_type);
        }
        if let Some(authorization) = &self.authorization {
            request = request.header(http::header::AUTHORIZATION, authorization.clone());
        }
        request.body(body)
    }

    /// Sends `request` and reads Matomo's answer (so the connection goes back to the pool),
    /// all within the timeout.
    pub(super) async fn send(
        &self,
        request: http::Request<String>,
    ) -> Result<http::StatusCode, UpstreamError> {
        let exchange = async {
            let response = match &self.pool {
                Pool::Plain(client) => client.request(request).await,
                Pool::Tls(client) => client.request(request).await,
            }
            .map_err(|err| {
                if err.is_connect() {
                    UpstreamError::Connect
                } else {
                    UpstreamError::Other
                }
            })?;
            let status = response.status();
            axum::body::to_bytes(
                axum::body::Body::new(response.into_body()),
                MAX_ANSWER_BYTES,
            )
            .await
            .map_err(|_| UpstreamError::Other)?;
            Ok(status)
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(UpstreamError::Timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_reuse_the_url_split_once() {
        let upstream = Upstream::new(
            "http://gate:p%40ss@127.0.0.1:8080/matomo/matomo.php",
            Duration::from_secs(1),
            4,
        )
        .unwrap();
        let request = upstream
            .request(
                http::Method::GET,
                Some("idsite=1&rec=1&url=a+b"),
                None,
                String::new(),
            )
            .unwrap();
        assert_eq!(
            request.uri(),
            "http://127.0.0.1:8080/matomo/matomo.php?idsite=1&rec=1&url=a+b"
        );
        assert!(
            request.headers()[http::header::USER_AGENT]
                .to_str()
                .unwrap()
                .starts_with("zeccloud-consent/")
        );
        // The credentials in the URL, percent-decoded, as reqwest sent them.
        assert_eq!(
            request.headers()[http::header::AUTHORIZATION],
            "Basic Z2F0ZTpwQHNz"
        );
        let form = upstream
            .request(
                http::Method::POST,
                None,
                Some(FORM),
                "idsite=1&rec=1".into(),
            )
            .unwrap();
        assert_eq!(form.uri(), "http://127.0.0.1:8080/matomo/matomo.php");
        assert_eq!(form.headers()[http::header::CONTENT_TYPE], FORM);
        assert_eq!(form.body(), "idsite=1&rec=1");
    }

    #[test]
    fn only_http_and_https_upstreams() {
        assert!(matches!(
            Upstream::new("ftp://matomo.test/matomo.php", Duration::from_secs(1), 1),
            Err(UpstreamSetupError::Url(_))
        ));
        let plain = Upstream::new("http://matomo.test", Duration::from_secs(1), 1).unwrap();
        assert!(matches!(plain.pool, Pool::Plain(_)));
        assert_eq!(plain.path, "/");
    }
}
