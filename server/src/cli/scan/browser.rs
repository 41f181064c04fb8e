//! Chromium through the DevTools protocol (chromiumoxide): one page in one fresh profile (an
//! incognito browser context), what it set and whom it contacted.

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::network::{
    EnableParams as NetworkEnable, EventLoadingFailed, EventLoadingFinished,
    EventRequestWillBeSent, EventResponseReceived, EventResponseReceivedExtraInfo, ResourceType,
};
use chromiumoxide::cdp::browser_protocol::storage::GetCookiesParams;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{AddBindingParams, EventBindingCalled};
use chromiumoxide::page::Page;
use futures_util::StreamExt;
use server::domain::scan::{
    ChoiceVia, ProfileObservation, SeenCookie, SeenRequest, SeenStorageKey, registrable_domain,
};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Flags for headless Chromium on a machine with no network beyond what the scan asks for:
/// without the background-networking ones it calls Google's hosts at every start.
const FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The binding the page instrumentation reports through (`Runtime.addBinding`): it survives
/// navigations, so what the first load of a page set is known after the choice's reload.
const BINDING: &str = "__zcScanReport";

/// Reports who sets a cookie through `document.cookie` and a storage key through `setItem`:
/// the first script URL on the caller's stack (an inline script shows as its page's URL).
const INSTRUMENT: &str = r#"(() => {
  const report = (k, n) => {
    try {
      const s = (new Error().stack || '').split('\n').map(l => (l.match(/((?:https?|file):\/\/[^\s)]+?):\d+:\d+/) || [])[1]).find(Boolean);
      window.__zcScanReport(JSON.stringify({ k, n, s: s || null }));
    } catch (e) {}
  };
  const d = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true, enumerable: d.enumerable,
    get() { return d.get.call(this); },
    set(v) { report('cookie', String(v).split(';')[0].split('=')[0].trim()); d.set.call(this, v); }
  });
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key) {
    let kind = 'session_storage';
    try { if (this === window.localStorage) kind = 'local_storage'; } catch (e) {}
    report(kind, String(key));
    return setItem.apply(this, arguments);
  };
})();"#;

/// Makes the choice the way a visitor would: the embed loader's API when the page has it,
/// else the service's own banner button, else a preference center's save with every optional
/// category ticked (accept) or none (reject). Waits up to 5 s for one to appear (the loader
/// is async).
const CHOOSE: &str = r#"async (action) => {
  const deadline = Date.now() + 5000;
  const find = () => {
    const api = window.zcConsent;
    if (api && !Array.isArray(api) && typeof api.reject === 'function') return ['api', api];
    const roots = [document];
    const host = document.getElementById('zc-consent');
    if (host && host.shadowRoot) roots.push(host.shadowRoot);
    for (const root of roots) {
      const button = root.querySelector('button[data-action="' + action + '"]');
      if (button) return ['banner', button];
      const save = root.querySelector('form button[data-action="save"]');
      if (save) return ['preferences', save];
    }
    return null;
  };
  let found;
  while (!(found = find()) && Date.now() < deadline) await new Promise(r => setTimeout(r, 100));
  if (!found) return null;
  if (found[0] === 'api') {
    await (action === 'reject_all' ? found[1].reject() : found[1].accept());
    return 'api';
  }
  if (found[0] === 'preferences') {
    found[1].form.querySelectorAll('input[type="checkbox"]:not(:disabled)')
      .forEach(box => { box.checked = action === 'accept_all'; });
  }
  found[1].click();
  return found[0];
}"#;

/// What the page holds besides cookies, and where it links (not to downloads: a download never
/// becomes a page).
const READ_PAGE: &str = r#"() => {
  const keys = s => { try { return Object.keys(s()); } catch (e) { return []; } };
  const embed = document.querySelector('script[src*="/embed.js"]');
  return {
    url: location.href,
    local: keys(() => localStorage),
    session: keys(() => sessionStorage),
    links: [...document.querySelectorAll('a[href]:not([download])')].map(a => a.href),
    embed: embed ? embed.src : null
  };
}"#;

/// At most this many third-party requests are kept per profile: a page that calls a host a
/// thousand times is reported by host, and the paths are only examples.
const MAX_REQUESTS_KEPT: usize = 200;

/// How to run Chromium.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    pub executable: std::path::PathBuf,
    pub extra_args: Vec<String>,
    /// The most one profile of one page may take, choice and reload included.
    pub page_timeout: Duration,
    /// How long to let a page's scripts run after it loaded.
    pub settle: Duration,
}

/// Why a page could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(
        "Chromium was not found at {0}: install Debian's `chromium` package, or pass --chromium PATH"
    )]
    ChromiumMissing(String),
    #[error("Chromium did not start: {0}")]
    Launch(String),
    #[error("{url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    HttpStatus { url: String, status: i64 },
    #[error("{url} took longer than {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("the browser failed on {url}: {reason}")]
    Browser { url: String, reason: String },
}

/// One profile's result, and what the page says about itself.
pub struct Visit {
    pub observation: ProfileObservation,
    pub final_url: String,
    pub links: Vec<String>,
    pub embed_src: Option<String>,
}

/// A running Chromium; dropped, it is killed.
pub struct Chromium {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    options: BrowserOptions,
    // Kept for its drop: Chromium's profile directory goes with the scan.
    _profile_dir: tempfile::TempDir,
}

impl Chromium {
    pub async fn launch(options: BrowserOptions) -> Result<Self, ScanError> {
        let executable = &options.executable;
        if !Path::new(executable).is_file() {
            return Err(ScanError::ChromiumMissing(executable.display().to_string()));
        }
        let profile_dir = tempfile::tempdir().map_err(|err| ScanError::Launch(err.to_string()))?;
        let mut config = BrowserConfig::builder()
            .chrome_executable(executable)
            .disable_default_args()
            .no_sandbox();
        // The launcher keeps a flag by name (without `--`) and its value apart.
        for raw in FLAGS
            .iter()
            .copied()
            .chain(options.extra_args.iter().map(String::as_str))
        {
            let raw = raw.trim_start_matches("--");
            config = match raw.split_once('=') {
                Some((key, value)) => config.arg((key, value)),
                None => config.arg(raw),
            };
        }
        let config = config
            .user_data_dir(profile_dir.path())
            .request_timeout(options.page_timeout)
            .build()
            .map_err(ScanError::Launch)?;
        let (browser, mut handler) = Browser::launch(config)
            .await
            .map_err(|err| ScanError::Launch(err.to_string()))?;
        // The protocol's events and replies arrive through the handler: it must be polled for
        // as long as the browser is used. Its errors are per message (an event this crate's
        // protocol version does not know), never fatal to the scan.
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Ok(Self {
            browser,
            handler,
            options,
            _profile_dir: profile_dir,
        })
    }

    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }

    /// Loads `url` in a fresh profile; with `choice` (`reject_all` or `accept_all`), makes it
    /// and loads the page again, so that what is read is a page view with the choice in force.
    pub async fn visit(&self, url: &str, choice: Option<&str>) -> Result<Visit, ScanError> {
        let context = self
            .browser
            .create_browser_context(CreateBrowserContextParams::default())
            .await
            .map_err(|err| browser_error(url, err))?;
        let result = tokio::time::timeout(
            self.options.page_timeout,
            self.visit_in(&context, url, choice),
        )
        .await
        .unwrap_or_else(|_| {
            Err(ScanError::Timeout {
                url: url.to_owned(),
                secs: self.options.page_timeout.as_secs(),
            })
        });
        let _ = self.browser.dispose_browser_context(context).await;
        result
    }

    async fn visit_in(
        &self,
        context: &BrowserContextId,
        url: &str,
        choice: Option<&str>,
    ) -> Result<Visit, ScanError> {
        let fail = |err| browser_error(url, err);
        let target = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context.clone())
            .build()
            .map_err(|reason| ScanError::Browser {
                url: url.to_owned(),
                reason,
            })?;
        let page = self.browser.new_page(target).await.map_err(fail)?;
        let recorder = Recorder::start(&page).await.map_err(fail)?;
        page.execute(NetworkEnable::default()).await.map_err(fail)?;
        page.execute(AddBindingParams::new(BINDING))
            .await
            .map_err(fail)?;
        page.evaluate_on_new_document(INSTRUMENT)
            .await
            .map_err(fail)?;

        self.load(&page, &recorder, url).await?;
        let mut chose = None;
        if let Some(action) = choice {
            let call = format!("() => ({CHOOSE})({})", serde_json::json!(action));
            let via: Option<String> = page
                .evaluate_function(call)
                .await
                .map_err(fail)?
                .into_value()
                .unwrap_or(None);
            chose = match via.as_deref() {
                Some("api") => Some(ChoiceVia::Api),
                Some("banner") => Some(ChoiceVia::Banner),
                Some("preferences") => Some(ChoiceVia::Preferences),
                _ => None,
            };
            if chose.is_some() {
                // The choice's request (and a banner form's own navigation) must be done
                // before the page is loaded again, or the reload cancels it.
                recorder.network_idle().await;
                self.load(&page, &recorder, url).await?;
            }
        }
        let read: PageRead = page
            .evaluate_function(READ_PAGE)
            .await
            .map_err(fail)?
            .into_value()
            .map_err(|err| browser_error(url, err))?;
        let cookies = self
            .browser
            .execute(
                GetCookiesParams::builder()
                    .browser_context_id(context.clone())
                    .build(),
            )
            .await
            .map_err(fail)?
            .result
            .cookies;
        let _ = page.close().await;

        let now = chrono::Utc::now().timestamp_millis() as f64 / 1_000.0;
        let recorded = recorder.finish();
        let page_site = host_of(&read.url).map_or_else(String::new, |h| registrable_domain(&h));
        let mut seen_cookies: Vec<SeenCookie> = cookies
            .into_iter()
            .map(|cookie| SeenCookie {
                set_by: recorded.cookie_setter(&cookie.name),
                lifetime_secs: (!cookie.session).then(|| (cookie.expires - now).round() as i64),
                name: cookie.name,
                domain: cookie.domain,
                path: cookie.path,
                http_only: cookie.http_only,
                secure: cookie.secure,
            })
            .collect();
        seen_cookies.sort_by(|a, b| (&a.name, &a.domain).cmp(&(&b.name, &b.domain)));
        let storage_keys = |kind: app::domain::IdentifierKind, names: &[String]| {
            names
                .iter()
                .map(|name| SeenStorageKey {
                    kind,
                    name: name.clone(),
                    set_by: recorded.storage_setter(kind.as_str(), name),
                })
                .collect::<Vec<_>>()
        };
        let mut storage = storage_keys(app::domain::IdentifierKind::LocalStorage, &read.local);
        storage.extend(storage_keys(
            app::domain::IdentifierKind::SessionStorage,
            &read.session,
        ));
        let third_party_requests = recorded
            .requests
            .iter()
            .filter(|request| {
                !page_site.is_empty() && registrable_domain(&request.host) != page_site
            })
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .take(MAX_REQUESTS_KEPT)
            .collect();
        Ok(Visit {
            observation: ProfileObservation {
                choice: chose,
                cookies: seen_cookies,
                storage,
                third_party_requests,
            },
            final_url: read.url,
            links: read.links,
            embed_src: read.embed,
        })
    }

    /// Navigates and lets the page's scripts run; an unreachable page or an error status of
    /// the document itself fails the visit.
    async fn load(&self, page: &Page, recorder: &Recorder, url: &str) -> Result<(), ScanError> {
        recorder.forget_document_status();
        page.goto(url).await.map_err(|err| ScanError::Unreachable {
            url: url.to_owned(),
            reason: err.to_string(),
        })?;
        tokio::time::sleep(self.options.settle).await;
        recorder.network_idle().await;
        match recorder.document_status() {
            Some(status) if status >= 400 => Err(ScanError::HttpStatus {
                url: url.to_owned(),
                status,
            }),
            _ => Ok(()),
        }
    }
}

fn browser_error(url: &str, err: impl std::fmt::Display) -> ScanError {
    ScanError::Browser {
        url: url.to_owned(),
        reason: err.to_string(),
    }
}

#[derive(serde::Deserialize)]
struct PageRead {
    url: String,
    local: Vec<String>,
    session: Vec<String>,
    links: Vec<String>,
    embed: Option<String>,
}

pub fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|u| {
        u.host_str()
            .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
    })
}

/// What the protocol's events said while a profile ran.
#[derive(Default)]
struct Recorded {
    requests: Vec<SeenRequest>,
    urls: HashMap<String, String>,
    /// `Set-Cookie` names by request id.
    set_cookies: Vec<(String, String)>,
    /// (kind, name, script) from the page instrumentation.
    set_by_script: Vec<(String, String, Option<String>)>,
    document_status: Option<i64>,
    /// Requests sent and not yet finished or failed.
    in_flight: BTreeSet<String>,
}

/// How long the network must be quiet before a page counts as settled.
const QUIET: Duration = Duration::from_millis(500);
/// The longest wait for a quiet network: a page that polls or streams never gets one.
const MAX_IDLE_WAIT: Duration = Duration::from_secs(5);

impl Recorded {
    fn cookie_setter(&self, name: &str) -> Option<String> {
        let by_response = self
            .set_cookies
            .iter()
            .find(|(_, set)| set == name)
            .and_then(|(request, _)| self.urls.get(request))
            .map(|url| format!("response {}", without_query(url)));
        by_response.or_else(|| self.storage_setter("cookie", name))
    }

    fn storage_setter(&self, kind: &str, name: &str) -> Option<String> {
        self.set_by_script
            .iter()
            .find(|(k, n, _)| k == kind && n == name)
            .map(|(_, _, script)| {
                format!(
                    "script {}",
                    script.as_deref().map_or("(unknown)", without_query)
                )
            })
    }
}

/// Queries may carry identifiers: reports name a URL by scheme, host and path.
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Collects a page's network events and instrumentation reports while it runs.
struct Recorder {
    recorded: Arc<Mutex<Recorded>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Recorder {
    async fn start(page: &Page) -> chromiumoxide::error::Result<Self> {
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let mut tasks = Vec::new();

        let mut requests = page.event_listener::<EventRequestWillBeSent>().await?;
        let into = recorded.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(event) = requests.next().await {
                let Ok(url) = url::Url::parse(&event.request.url) else {
                    continue;
                };
                let mut recorded = into.lock().unwrap_or_else(|e| e.into_inner());
                recorded.in_flight.insert(event.request_id.inner().clone());
                recorded
                    .urls
                    .insert(event.request_id.inner().clone(), event.request.url.clone());
                if let ("http" | "https" | "ws" | "wss", Some(host)) =
                    (url.scheme(), url.host_str())
                    && recorded.requests.len() < 10 * MAX_REQUESTS_KEPT
                {
                    recorded.requests.push(SeenRequest {
                        host: host.trim_matches(['[', ']']).to_ascii_lowercase(),
                        path: url.path().to_owned(),
                    });
                }
            }
        }));

        let mut finished = page.event_listener::<EventLoadingFinished>().await?;
        let into = recorded.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(event) = finished.next().await {
                let mut recorded = into.lock().unwrap_or_else(|e| e.into_inner());
                recorded.in_flight.remove(event.request_id.inner());
            }
        }));
        let mut failed = page.event_listener::<EventLoadingFailed>().await?;
        let into = recorded.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(event) = failed.next().await {
                let mut recorded = into.lock().unwrap_or_else(|e| e.into_inner());
                recorded.in_flight.remove(event.request_id.inner());
            }
        }));

        let mut responses = page.event_listener::<EventResponseReceived>().await?;
        let into = recorded.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(event) = responses.next().await {
                if event.r#type == ResourceType::Document {
                    let mut recorded = into.lock().unwrap_or_else(|e| e.into_inner());
                    recorded
                        .document_status
                        .get_or_insert(event.response.status);
                }
            }
        }));

        let mut extra = page
            .event_listener::<EventResponseReceivedExtraInfo>()
            .await?;
        let into = recorded.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(event) = extra.next().await {
                let Some(headers) = event.headers.inner().as_object() else {
                    continue;
                };
                let mut recorded = into.lock().unwrap_or_else(|e| e.into_inner());
                for (name, value) in headers {
                    if !name.eq_ignore_ascii_case("set-cookie") {
                        continue;
                    }
                    // Several Set-Cookie headers arrive joined by newlines.
                    for line in value.as_str().unwrap_or_default().lines() {
                        let cookie_name = line.split(';').next().unwrap_or_default();
                        let cookie_name = cookie_name.split('=').next().unwrap_or_default().trim();
                        if !cookie_name.is_empty() {
                            recorded
                                .set_cookies
                                .push((event.request_id.inner().clone(), cookie_name.to_owned()));
                        }
                    }
                }
            }
        }));

        let mut bindings = page.event_listener::<EventBindingCalled>().await?;
        let into = recorded.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(event) = bindings.next().await {
                #[derive(serde::Deserialize)]
                struct Report {
                    k: String,
                    n: String,
                    s: Option<String>,
                }
                if event.name != BINDING {
                    continue;
                }
                if let Ok(report) = serde_json::from_str::<Report>(&event.payload) {
                    let mut recorded = into.lock().unwrap_or_else(|e| e.into_inner());
                    if recorded.set_by_script.len() < 1_000 {
                        recorded.set_by_script.push((report.k, report.n, report.s));
                    }
                }
            }
        }));
        Ok(Self { recorded, tasks })
    }

    /// Waits until no request has been in flight for [`QUIET`], or [`MAX_IDLE_WAIT`] passed.
    async fn network_idle(&self) {
        let started = tokio::time::Instant::now();
        let mut quiet_since = None;
        while started.elapsed() < MAX_IDLE_WAIT {
            let busy = !self
                .recorded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .in_flight
                .is_empty();
            let now = tokio::time::Instant::now();
            match (busy, quiet_since) {
                (true, _) => quiet_since = None,
                (false, None) => quiet_since = Some(now),
                (false, Some(since)) if now - since >= QUIET => return,
                (false, Some(_)) => {}
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn forget_document_status(&self) {
        self.recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .document_status = None;
    }

    fn document_status(&self) -> Option<i64> {
        self.recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .document_status
    }

    fn finish(self) -> Recorded {
        for task in &self.tasks {
            task.abort();
        }
        std::mem::take(&mut *self.recorded.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
