//! `server scan`: loads pages in headless Chromium in three fresh profiles (no choice,
//! rejected, accepted) and checks what they set and whom they contacted against the
//! identifier registry (docs/tracker-audit.md). Exit status: 0 clean, 1 violations, 2 the scan
//! could not run.

mod browser;

use browser::{BrowserOptions, Chromium, ScanError, host_of};
use chrono::Utc;
use clap::Args;
use server::domain::scan::draft::{drafts, to_toml};
use server::domain::scan::registry::Registry;
use server::domain::scan::{
    PageObservation, PageReport, Profile, ScanReport, Skipped, check_page, never_seen,
    registrable_domain,
};
use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The pages to start from (http or https URLs).
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// The most pages to scan, the start URLs included; links found on scanned pages fill the
    /// rest, never off the site.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_pages: u32,
    /// Follow links to every host of the start page's site (its registrable domain, e.g. all
    /// of *.zeccloud.com); without it, only links on the start page's own host.
    #[arg(long)]
    pub same_site: bool,
    /// The consent service whose published registry the pages are checked against
    /// (`GET /api/v1/registry`); by default the one whose /embed.js the first page loads.
    #[arg(long, value_name = "URL", conflicts_with = "policy")]
    pub service: Option<String>,
    /// Check against a policy file instead (e.g. one not yet published); `parent` domains are
    /// then the scanned page's registrable domain.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Write the whole report as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write registry entries for the undeclared identifiers, as policy TOML to paste.
    #[arg(long, value_name = "FILE")]
    pub draft: Option<PathBuf>,
    /// Keep the report in the service's database (settings as for `server serve`), for the
    /// console's list of scans.
    #[arg(long)]
    pub record: bool,
    /// The Chromium to drive.
    #[arg(long, value_name = "PATH", default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
    /// One more Chromium flag (repeatable), e.g. `--browser-arg=--host-resolver-rules=…`.
    #[arg(long = "browser-arg", value_name = "FLAG", allow_hyphen_values = true)]
    pub browser_args: Vec<String>,
    /// The most seconds one profile of one page may take (its choice and reload included).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub page_timeout: u64,
    /// Milliseconds to let a page's scripts run after it loaded.
    #[arg(long, default_value_t = 1500, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub settle_ms: u64,
}

pub async fn run(args: ScanArgs, record: Option<server::infra::config::Settings>) -> ExitCode {
    match scan(&args).await {
        Err(err) => {
            eprintln!("error: the scan could not run: {err}");
            ExitCode::from(2)
        }
        Ok(report) => {
            if let Err(err) = write_outputs(&args, &report) {
                eprintln!("error: {err}");
                return ExitCode::from(2);
            }
            if let Some(settings) = record
                && let Err(err) = keep(settings, &report).await
            {
                eprintln!("error: the report could not be kept: {err}");
                return ExitCode::from(2);
            }
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(render(&report).as_bytes());
            if report.violations == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

async fn keep(
    settings: server::infra::config::Settings,
    report: &ScanReport,
) -> Result<(), String> {
    let storage = server::storage::connect(&settings.database_url)
        .await
        .map_err(|err| err.to_string())?;
    let json = serde_json::to_string(report).map_err(|err| err.to_string())?;
    storage
        .record_scan(&server::storage::scans::NewScan {
            started_at: report.started_at,
            finished_at: report.finished_at,
            start_urls: report.start_urls.join(" "),
            pages: report.pages.len() as i64,
            violations: report.violations as i64,
            report: json,
        })
        .await
        .map(|_| ())
        .map_err(|err| err.to_string())
}

/// Why a scan did not run at all.
#[derive(Debug, thiserror::Error)]
enum Fatal {
    #[error("{0}")]
    Browser(#[from] ScanError),
    #[error("{0} is not an http or https URL")]
    NotAUrl(String),
    #[error("the registry could not be read from {from}: {reason}")]
    Registry { from: String, reason: String },
    #[error(
        "no registry: the first page loads no /embed.js; pass --service URL (the consent service) or --policy FILE"
    )]
    NoRegistry,
}

async fn scan(args: &ScanArgs) -> Result<ScanReport, Fatal> {
    let started_at = Utc::now();
    for url in &args.urls {
        match url::Url::parse(url) {
            Ok(parsed)
                if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
            _ => return Err(Fatal::NotAUrl(url.clone())),
        }
    }
    let chromium = Chromium::launch(BrowserOptions {
        executable: args.chromium.clone(),
        extra_args: args.browser_args.clone(),
        page_timeout: Duration::from_secs(args.page_timeout),
        settle: Duration::from_millis(args.settle_ms),
    })
    .await?;
    let result = crawl(args, &chromium).await;
    chromium.close().await;
    let (observed, skipped, embed_src) = result?;

    let (registry, registry_source) = load_registry(args, embed_src.as_deref()).await?;
    let pages: Vec<PageReport> = observed
        .into_iter()
        .map(|observed| PageReport {
            url: observed.url.clone(),
            findings: check_page(&observed, &registry),
            observed,
        })
        .collect();
    let observations: Vec<PageObservation> = pages.iter().map(|p| p.observed.clone()).collect();
    let draft = to_toml(
        &drafts(&observations, &registry),
        &app::domain::language::SUPPORTED_LANGUAGES,
    );
    let report = ScanReport {
        started_at,
        finished_at: Utc::now(),
        start_urls: args.urls.clone(),
        registry_source,
        registry_version: registry.version.clone(),
        violations: pages.iter().map(|p| p.findings.len()).sum(),
        never_seen: never_seen(&observations, &registry),
        pages,
        skipped,
        draft,
    };
    Ok(report)
}

type Crawled = (Vec<PageObservation>, Vec<Skipped>, Option<String>);

/// Breadth-first from the start URLs, on the site only, up to `--max-pages`.
async fn crawl(args: &ScanArgs, chromium: &Chromium) -> Result<Crawled, Fatal> {
    let mut queue: VecDeque<(String, bool)> =
        args.urls.iter().map(|url| (normalize(url), true)).collect();
    let mut queued: BTreeSet<String> = queue.iter().map(|(url, _)| url.clone()).collect();
    let mut pages = Vec::new();
    let mut skipped = Vec::new();
    let mut embed_src = None;
    while let Some((url, is_start)) = queue.pop_front() {
        if pages.len() >= args.max_pages as usize {
            break;
        }
        let visits = async {
            Ok::<_, ScanError>((
                chromium.visit(&url, None).await?,
                chromium.visit(&url, Some("reject_all")).await?,
                chromium.visit(&url, Some("accept_all")).await?,
            ))
        };
        let (no_choice, rejected, accepted) = match visits.await {
            Ok(visits) => visits,
            // A start page that cannot be scanned ends the scan; a linked one is skipped.
            Err(err) if is_start => return Err(err.into()),
            Err(err) => {
                skipped.push(Skipped {
                    url,
                    reason: err.to_string(),
                });
                continue;
            }
        };
        if embed_src.is_none() {
            embed_src.clone_from(&no_choice.embed_src);
        }
        let host = host_of(&no_choice.final_url).unwrap_or_default();
        let site = registrable_domain(&host);
        for link in &no_choice.links {
            let link = normalize(link);
            let Some(link_host) = host_of(&link) else {
                continue;
            };
            let on_site = if args.same_site {
                registrable_domain(&link_host) == site
            } else {
                link_host == host
            };
            let web = link.starts_with("http://") || link.starts_with("https://");
            if on_site && web && queued.insert(link.clone()) {
                queue.push_back((link, false));
            }
        }
        pages.push(PageObservation {
            url,
            site,
            no_choice: no_choice.observation,
            rejected: rejected.observation,
            accepted: accepted.observation,
        });
    }
    Ok((pages, skipped, embed_src))
}

/// A link without its fragment: `/a#top` and `/a` are one page.
fn normalize(url: &str) -> String {
    url.split('#').next().unwrap_or(url).to_owned()
}

async fn load_registry(
    args: &ScanArgs,
    embed_src: Option<&str>,
) -> Result<(Registry, String), Fatal> {
    if let Some(path) = &args.policy {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| Fatal::Registry {
            from: source.clone(),
            reason: err.to_string(),
        })?;
        let policy = app::domain::Policy::from_toml(&text).map_err(|err| Fatal::Registry {
            from: source.clone(),
            reason: err.to_string(),
        })?;
        return Ok((Registry::from_policy(&policy, None, &[]), source));
    }
    let service = match (&args.service, embed_src) {
        (Some(service), _) => service.trim_end_matches('/').to_owned(),
        (None, Some(src)) => src
            .split(['?', '#'])
            .next()
            .unwrap_or(src)
            .trim_end_matches("/embed.js")
            .to_owned(),
        (None, None) => return Err(Fatal::NoRegistry),
    };
    let source = format!("{service}/api/v1/registry");
    let failed = |reason: String| Fatal::Registry {
        from: source.clone(),
        reason,
    };
    let response = reqwest::Client::new()
        .get(&source)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|err| failed(err.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    let registry = response
        .json::<Registry>()
        .await
        .map_err(|err| failed(err.to_string()))?;
    Ok((registry, source))
}

fn write_outputs(args: &ScanArgs, report: &ScanReport) -> Result<(), String> {
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(report).map_err(|err| err.to_string())?;
        std::fs::write(path, json + "\n")
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    }
    if let Some(path) = &args.draft {
        std::fs::write(path, &report.draft)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    }
    Ok(())
}

/// The readable report: per page, its violations as a table.
pub fn render(report: &ScanReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Scanned {} page(s), each in three profiles (no choice, rejected, accepted), against registry {} ({}).",
        report.pages.len(),
        report.registry_version,
        report.registry_source
    );
    for page in &report.pages {
        let _ = writeln!(out);
        if page.findings.is_empty() {
            let _ = writeln!(out, "{}: clean", page.url);
        } else {
            let _ = writeln!(out, "{}: {} violation(s)", page.url, page.findings.len());
        }
        for profile in [Profile::Rejected, Profile::Accepted] {
            if page.observed.profile(profile).choice.is_none() {
                let _ = writeln!(
                    out,
                    "  note: no banner or loader API to choose with: the {} profile is an unchosen one",
                    profile.as_str()
                );
            }
        }
        let rows: Vec<[String; 4]> = page
            .findings
            .iter()
            .map(|finding| {
                [
                    finding.kind.describe().to_owned(),
                    finding.subject.to_string(),
                    finding.profile_list(),
                    finding.detail_with_setter(),
                ]
            })
            .collect();
        let widths: Vec<usize> = (0..3)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            let _ = writeln!(
                out,
                "  {:w0$}  {:w1$}  {:w2$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            );
        }
    }
    for skipped in &report.skipped {
        let _ = writeln!(out, "\nskipped {}: {}", skipped.url, skipped.reason);
    }
    if !report.never_seen.is_empty() {
        let names: Vec<String> = report
            .never_seen
            .iter()
            .map(|hint| format!("{} {} ({})", hint.kind.as_str(), hint.name, hint.category))
            .collect();
        let _ = writeln!(
            out,
            "\nHint: declared but not seen on these pages: {}.",
            names.join(", ")
        );
    }
    let dirty = report
        .pages
        .iter()
        .filter(|p| !p.findings.is_empty())
        .count();
    let _ = writeln!(
        out,
        "\nResult: {} violation(s) on {dirty} of {} page(s).",
        report.violations,
        report.pages.len()
    );
    out
}
