//! Spawns the application on port 0 against SQLite or PostgreSQL and drives it over HTTP.

#![allow(dead_code)]

use base64::Engine as _;
use secrecy::SecretString;
use server::domain::{Ssaid, TerminalType};
use server::infra::clock::Clock;
use server::infra::config::Settings;
use server::infra::tokens::TokenSigner;
use server::startup::Application;
use server::storage::testing::{self, TestStorage};
use server::storage::{ConsentEvent, SsaidRecord};
use sqlx::Connection;
use std::sync::Arc;
use tempfile::TempDir;

pub const POLICY_VERSION: &str = "2026-12-07";
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
pub const SIGNING_KEY: [u8; 32] = [7; 32];
/// The consent log's key in tests: its verifier key is fixed, so tests can pin it.
pub const LOG_KEY: [u8; 32] = [11; 32];
pub const CHROME_DESKTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
pub const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

#[derive(Debug, Clone, Copy)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    /// The operations listener: `/healthz`, `/metrics`.
    pub ops_base: String,
    pub engine: Engine,
    pub database_url: String,
    pub http: reqwest::Client,
    /// Every storage port, and the reads only tests make.
    pub storage: Arc<dyn TestStorage>,
    pub tokens: TokenSigner,
    pub server: Running,
    _dir: TempDir,
}

/// The application serving in the background, until told to shut down.
pub struct Running {
    stop: Arc<tokio::sync::Notify>,
    task: tokio::sync::Mutex<Option<tokio::task::JoinHandle<std::io::Result<()>>>>,
}

impl Running {
    /// Sends the shutdown signal (as SIGTERM does) and waits until the server has returned.
    pub async fn shut_down(&self) {
        self.stop.notify_one();
        let task = self.task.lock().await.take().expect("shut down once");
        task.await
            .expect("server task")
            .expect("server ends cleanly");
    }
}

/// Runs the same test against each engine.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name($crate::common::Engine::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name($crate::common::Engine::Postgres).await })*
        }
    };
}

/// A fresh database for one test: a SQLite file in a temp folder, or a new database on the
/// PostgreSQL server named by `CONSENT_TEST_POSTGRES_URL` (the test command starts one).
pub async fn database_url(engine: Engine, dir: &TempDir) -> String {
    match engine {
        Engine::Sqlite => format!("sqlite://{}", dir.path().join("consent.db").display()),
        Engine::Postgres => {
            let admin_url = std::env::var("CONSENT_TEST_POSTGRES_URL").expect(
                "CONSENT_TEST_POSTGRES_URL must name a PostgreSQL server for the postgres tests; \
                 `scripts/test` starts one and sets it",
            );
            let name = format!("zc_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("connect to test PostgreSQL");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .expect("create test database");
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("URL with a database path");
            format!("{base}/{name}")
        }
    }
}

pub fn settings(database_url: String, dir: &TempDir) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ops_listen: "127.0.0.1:0".parse().unwrap(),
        database_url,
        site_root: dir.path().join("site"),
        signing_key: Some(SecretString::from(
            base64::engine::general_purpose::STANDARD.encode(SIGNING_KEY),
        )),
        signing_key_file: dir.path().join("unused.key"),
        // Heads every second, so a test waits at most that long for its decision's.
        log: server::infra::config::LogSettings {
            key: Some(SecretString::from(
                base64::engine::general_purpose::STANDARD.encode(LOG_KEY),
            )),
            key_file: dir.path().join("unused-log.key"),
            head_interval_secs: 1,
            ..server::infra::config::LogSettings::default()
        },
        cookie_secure: false,
        admin_token: Some(SecretString::from(ADMIN_TOKEN.to_owned())),
        // Debug builds rendering pages while many tests share two cores can be slow: a
        // request timeout here would be a flaky test, not a finding.
        request_timeout_secs: 120,
        ..Settings::default()
    }
}

/// Starts the application in the background; returns its base URL and its operations
/// listener's.
pub async fn serve(settings: Settings, clock: Clock) -> (String, String, Running) {
    let app = Application::build_with_clock(settings, clock)
        .await
        .expect("application starts");
    let base = format!("http://{}", app.local_addr());
    let ops_base = format!("http://{}", app.ops_addr());
    let stop = Arc::new(tokio::sync::Notify::new());
    let signal = Arc::clone(&stop);
    let task = tokio::spawn(app.run_until_stopped(async move { signal.notified().await }));
    let running = Running {
        stop,
        task: tokio::sync::Mutex::new(Some(task)),
    };
    (base, ops_base, running)
}

pub async fn spawn(engine: Engine) -> TestApp {
    spawn_with(engine, |_| {}).await
}

pub async fn spawn_with(engine: Engine, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_as_of(engine, Clock::system(), adjust).await
}

/// The application with its clock: a fixed one runs it "as of" a date.
pub async fn spawn_as_of(
    engine: Engine,
    clock: Clock,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, &dir).await;
    start(engine, url, dir, clock, adjust).await
}

/// Settings like the test's own, on its database (for building an application by hand).
pub fn settings_for(app: &TestApp) -> Settings {
    let dir = tempfile::tempdir().unwrap();
    settings(app.database_url.clone(), &dir)
}

/// Another instance on the same database, as behind a load balancer.
pub async fn spawn_beside(other: &TestApp, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = other.database_url.clone();
    start(other.engine, url, dir, Clock::system(), adjust).await
}

async fn start(
    engine: Engine,
    url: String,
    dir: TempDir,
    clock: Clock,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    start_through(engine, url.clone(), url, dir, clock, adjust).await
}

/// The application reaching its database at `app_url` (through a proxy a test can cut),
/// while the test reads it directly at `url`.
pub async fn start_through(
    engine: Engine,
    app_url: String,
    url: String,
    dir: TempDir,
    clock: Clock,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = settings(app_url, &dir);
    adjust(&mut settings);
    let (base, ops_base, server) = serve(settings, clock).await;
    TestApp {
        base,
        ops_base,
        server,
        engine,
        database_url: url.clone(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        storage: testing::connect(&url).await.unwrap(),
        tokens: TokenSigner::new(&secrecy::SecretSlice::from(SIGNING_KEY.to_vec())),
        _dir: dir,
    }
}

/// Evaluates `$run` with `$conn` bound to a new connection to the test's own database,
/// whichever engine it is on. `$run` may use `?`; the whole is a `Result<_, sqlx::Error>`.
macro_rules! with_connection {
    ($app:expr, |$conn:ident| $run:expr) => {
        async {
            Ok::<_, sqlx::Error>(match $app.engine {
                Engine::Sqlite => {
                    let mut $conn = sqlx::SqliteConnection::connect(&$app.database_url).await?;
                    $run
                }
                Engine::Postgres => {
                    let mut $conn = sqlx::PgConnection::connect(&$app.database_url).await?;
                    $run
                }
            })
        }
        .await
    };
}

impl TestApp {
    /// Runs one statement on the database directly, bypassing the service.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        with_connection!(self, |conn| {
            sqlx::raw_sql(sql).execute(&mut conn).await?.rows_affected()
        })
    }

    /// How many rows a table holds (`table` is one of ours, never input).
    pub async fn count_rows(&self, table: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        with_connection!(self, |conn| {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut conn)
                .await?
        })
        .unwrap()
    }

    /// The text values of a query's one column (`sql` is ours, never input).
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        with_connection!(self, |conn| {
            sqlx::query_scalar::<_, String>(sql)
                .fetch_all(&mut conn)
                .await?
        })
        .unwrap()
    }

    /// Runs the `server` command with this instance's database and signing key (plain http,
    /// no config file); its standard output. The command must succeed.
    pub fn command(&self, args: &[&str]) -> String {
        let output = self.run_command(args);
        assert!(
            output.status.success(),
            "server {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs the `server` command as [`TestApp::command`] does, whatever its outcome.
    pub fn run_command(&self, args: &[&str]) -> std::process::Output {
        let dir = tempfile::tempdir().unwrap();
        self.server_command(args, &dir).output().unwrap()
    }

    /// Runs the `server` command as [`TestApp::run_command`] does, without holding the test's
    /// runtime: for a command that calls this very server (`server scan`), which would wait
    /// forever on a runtime blocked by it.
    pub async fn run_command_async(&self, args: &[&str]) -> std::process::Output {
        let dir = tempfile::tempdir().unwrap();
        let mut command = self.server_command(args, &dir);
        tokio::task::spawn_blocking(move || {
            let output = command.output().unwrap();
            drop(dir);
            output
        })
        .await
        .unwrap()
    }

    fn server_command(&self, args: &[&str], dir: &tempfile::TempDir) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env(
                "ZC_SIGNING_KEY",
                base64::engine::general_purpose::STANDARD.encode(SIGNING_KEY),
            )
            .env(
                "ZC_LOG__KEY",
                base64::engine::general_purpose::STANDARD.encode(LOG_KEY),
            )
            .env("ZC_COOKIE_SECURE", "false")
            .env_remove("ZC_CONFIG")
            .current_dir(dir.path());
        command
    }

    /// The overview's tallies say, day by day, exactly what the counts they are written with
    /// say; returns how many tallies the days have.
    pub async fn assert_tallies_equal_counts(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> usize {
        use server::domain::statistics::{summarize, summarize_tallies};
        let counts = self.storage.decision_counts(from, to).await.unwrap();
        let tallies = self.storage.decision_tallies(from, to).await.unwrap();
        assert_eq!(summarize_tallies(&tallies), summarize(&counts));
        tallies.len()
    }

    pub fn site_root(&self) -> std::path::PathBuf {
        self._dir.path().join("site")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Fetches `path` from a browser accepting `accept_encoding`: it must come brotli-compressed.
    pub async fn get_compressed(&self, path: &str, accept_encoding: &str) -> reqwest::Response {
        let response = self
            .get_with(path, &[("accept-encoding", accept_encoding)])
            .await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-encoding"], "br", "{path}");
        response
    }

    /// A CORS preflight for a POST to `path` from a page on `origin`.
    pub async fn preflight(&self, path: &str, origin: &str) -> reqwest::Response {
        self.http
            .request(reqwest::Method::OPTIONS, self.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .fetch()
            .await
    }

    /// `GET path` on the operations listener.
    pub async fn ops_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.ops_base))
            .fetch()
            .await
    }

    /// The counters, as Prometheus reads them from the operations listener.
    pub async fn metrics(&self) -> String {
        let answer = self.ops_get("/metrics").await;
        assert_eq!(answer.status(), 200);
        answer.text().await.unwrap()
    }

    /// A new visitor who decided `action` through the JSON API: their SSAID cookie, and the
    /// cookies their browser now sends.
    pub async fn decided_visitor(&self, action: &str) -> (String, String) {
        let ssaid = self.new_visitor().await;
        let decided = self
            .post_json(&format!("zc_ssaid={ssaid}"), &decision(action))
            .await;
        assert_eq!(decided.status(), 201);
        let cookies = cookies_after(&ssaid, &decided);
        (ssaid, cookies)
    }

    /// A first visit: returns the SSAID cookie the service set.
    pub async fn new_visitor(&self) -> String {
        let response = self.http.get(self.url("/api/v1/policy")).fetch().await;
        assert!(
            set_cookie(&response, "zc_ssaid").is_none(),
            "the policy must not issue SSAIDs"
        );
        let response = self.http.get(self.url("/api/v1/consent")).fetch().await;
        set_cookie(&response, "zc_ssaid").expect("first response sets zc_ssaid")
    }

    pub async fn get(&self, path: &str, cookies: &str) -> reqwest::Response {
        self.get_with(path, &[("cookie", cookies)]).await
    }

    /// `GET path` with these request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.fetch().await
    }

    /// `GET path` with the admin token.
    pub async fn get_as_admin(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .fetch()
            .await
    }

    /// Posts the console's sign-in form from the console's own page.
    pub async fn sign_in_with(&self, token: &str) -> reqwest::Response {
        self.http
            .post(self.url("/admin/sign-in"))
            .header("sec-fetch-site", "same-origin")
            .header("origin", &self.base)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"))
            .fetch()
            .await
    }

    /// Signs in to the console; the `Cookie` header that carries the session.
    pub async fn console_session(&self) -> String {
        let answer = self.sign_in_with(ADMIN_TOKEN).await;
        assert_eq!(answer.status(), 303);
        format!("zc_admin={}", set_cookie(&answer, "zc_admin").unwrap())
    }

    /// `GET /api/v1/consent` as JSON.
    pub async fn consent_status(&self, cookies: &str) -> serde_json::Value {
        self.get("/api/v1/consent", cookies)
            .await
            .json()
            .await
            .unwrap()
    }

    /// A form POST to the banner's server function, as a browser sends it from the service's
    /// own page.
    pub fn post_form(&self, cookies: &str, accept: &str, body: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url("/_sf/record_consent"))
            .header("sec-fetch-site", "same-origin")
            .header("origin", &self.base)
            .header("cookie", cookies)
            .header("accept", accept)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
    }

    pub async fn post_json(&self, cookies: &str, body: &str) -> reqwest::Response {
        self.post_json_with(cookies, body, &[]).await
    }

    /// `POST /api/v1/consent` with extra headers (`sec-gpc`, …).
    pub async fn post_json_with(
        &self,
        cookies: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url("/api/v1/consent"))
            .header("cookie", cookies)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.fetch().await
    }

    /// Publishes the embedded default policy as a new `version`.
    pub async fn publish_default_as(&self, version: &str, material: bool) {
        let response = self
            .publish(&policy_version_of_default(version), material)
            .await;
        assert_eq!(response.status(), 201, "{version} published");
    }

    /// Publishes a policy file through the admin API.
    pub async fn publish(&self, source: &str, material: bool) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/api/v1/admin/policies?material={material}")))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/toml")
            .body(source.to_owned())
            .fetch()
            .await
    }

    /// The stored SSAID record (issue time and terminal type), read from the database
    /// directly: the service itself never looks one up.
    pub async fn ssaid_record(
        &self,
        ssaid: &Ssaid,
    ) -> Option<(chrono::DateTime<chrono::Utc>, TerminalType)> {
        let sql = "SELECT issued_at, terminal_type FROM ssaids WHERE ssaid = $1";
        let row: Option<(chrono::DateTime<chrono::Utc>, String)> = with_connection!(self, |conn| {
            sqlx::query_as(sql)
                .bind(ssaid.as_str())
                .fetch_optional(&mut conn)
                .await?
        })
        .unwrap();
        row.map(|(issued_at, terminal)| (issued_at, TerminalType::parse(&terminal).unwrap()))
    }

    /// [`Self::ssaid_record`] as the record stored.
    pub async fn stored_ssaid(&self, ssaid: &Ssaid) -> Option<SsaidRecord> {
        self.ssaid_record(ssaid)
            .await
            .map(|(issued_at, terminal_type)| SsaidRecord {
                ssaid: ssaid.clone(),
                issued_at,
                terminal_type,
            })
    }

    pub async fn events_of(&self, ssaid_token: &str) -> Vec<ConsentEvent> {
        let ssaid = ssaid_of(&self.tokens, ssaid_token);
        self.storage.consent_events_for(&ssaid).await.unwrap()
    }
}

/// The embedded default policy under another version id.
pub fn policy_version_of_default(version: &str) -> String {
    let source = app::DEFAULT_POLICY_TOML;
    let line = format!("version = \"{POLICY_VERSION}\"");
    assert!(source.contains(&line));
    source.replace(&line, &format!("version = \"{version}\""))
}

/// Sending a test's request: one that cannot be sent fails the test.
pub trait Fetch {
    fn fetch(self) -> impl Future<Output = reqwest::Response>;
    /// The answer's body as JSON.
    fn fetch_json(self) -> impl Future<Output = serde_json::Value>;
}

impl Fetch for reqwest::RequestBuilder {
    async fn fetch(self) -> reqwest::Response {
        self.send().await.unwrap()
    }

    async fn fetch_json(self) -> serde_json::Value {
        self.fetch().await.json().await.unwrap()
    }
}

/// Asserts that a response grants no cross-origin access.
pub fn assert_no_cors(response: &reqwest::Response) {
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// A JSON decision body: `action` on the current policy version.
pub fn decision(action: &str) -> String {
    format!(r#"{{"policy_version":"{POLICY_VERSION}","action":"{action}"}}"#)
}

/// The cookies the visitor holding SSAID `ssaid` sends once `answer` set its consent cookie.
pub fn cookies_after(ssaid: &str, answer: &reqwest::Response) -> String {
    let consent = set_cookie(answer, "zc_consent").unwrap();
    format!("zc_ssaid={ssaid}; zc_consent={consent}")
}

/// Asserts an error answer: its status and the `error.code` of its JSON body, which it returns
/// for further checks.
pub async fn assert_error(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    assert_error_for(response, status, code, "").await
}

/// [`assert_error`] for one case of a table, named in the failure message.
pub async fn assert_error_for(
    response: reqwest::Response,
    status: u16,
    code: &str,
    case: &str,
) -> serde_json::Value {
    assert_eq!(response.status(), status, "{case}");
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["error"]["code"], code, "{case}: {json}");
    json
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookie_headers(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The value of one cookie set by a response.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    set_cookie_header(response, name).map(|header| {
        let pair = header.split(';').next().unwrap();
        pair.split_once('=').unwrap().1.to_owned()
    })
}

/// The whole `Set-Cookie` header for one cookie, attributes included.
pub fn set_cookie_header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// The `bnd` claim the service puts in the consent cookie of the visitor holding SSAID token
/// `ssaid_token` (the pseudonym key derived from the tests' signing key).
pub fn consent_binding(tokens: &TokenSigner, ssaid_token: &str) -> String {
    use secrecy::ExposeSecret;
    let ring =
        server::infra::tokens::KeyRing::single(secrecy::SecretSlice::from(SIGNING_KEY.to_vec()));
    server::domain::rights::consent_binding(
        ring.derive("pseudonyms").expose_secret(),
        &ssaid_of(tokens, ssaid_token),
    )
}

pub fn ssaid_of(tokens: &TokenSigner, token: &str) -> Ssaid {
    let claims: server::domain::SsaidClaims =
        tokens.verify(token, "zc_ssaid").expect("valid SSAID token");
    claims.sub
}
