//! The audit export: every decision made in a range of days, as CSV or JSON Lines, read page
//! by page (keyset paging on time and id) so memory stays flat however many there are. The
//! columns are documented in the README; the console and `server export` share this code.

use crate::storage::{ConsentEvent, DecisionPlace, StatisticsStore, StorageError};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use std::sync::Arc;
use uuid::Uuid;

/// Decisions read per query.
const PAGE_ROWS: i64 = 1000;

/// The columns, in order; the JSON Lines objects have the same keys.
pub const COLUMNS: [&str; 18] = [
    "consent_id",
    "decided_at",
    "ssaid",
    "policy_version",
    "policy_hash",
    "banner_text_hash",
    "language",
    "action",
    "source",
    "categories",
    "network_prefix",
    "terminal_type",
    "origin",
    // When the visitor made a choice their page delivered late; empty: at decided_at.
    "made_at",
    // Where it was made: the policy's jurisdiction and its regime, the visitor's country and
    // where that came from. All empty for decisions recorded before jurisdictions existed
    // (made under opt-in): the export says what was recorded, nothing inferred.
    "jurisdiction",
    "regime",
    "country",
    "country_source",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    JsonLines,
}

impl ExportFormat {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "csv" => Some(Self::Csv),
            "jsonl" => Some(Self::JsonLines),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::JsonLines => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::JsonLines => "application/jsonl; charset=utf-8",
        }
    }
}

/// UTC days from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DayRange {
    pub fn parse(from: &str, to: &str) -> Result<Self, String> {
        let day = |name: &str, raw: &str| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| format!("{name} must be a date as YYYY-MM-DD, not {raw:?}"))
        };
        Self::new(day("from", from)?, day("to", to)?)
    }

    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, String> {
        if from > to {
            return Err(format!("from ({from}) is after to ({to})"));
        }
        Ok(Self { from, to })
    }

    fn start(self) -> DateTime<Utc> {
        self.from.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    fn end(self) -> DateTime<Utc> {
        (self.to + TimeDelta::days(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    }
}

/// An export asked for (`from`, `to`, `format` as the console's form, the admin API and the
/// command line name them), checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportRequest {
    pub range: DayRange,
    pub format: ExportFormat,
}

/// Why an export request is not one: a range or format that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidExport(pub String);

impl ExportRequest {
    pub fn parse(from: &str, to: &str, format: &str) -> Result<Self, InvalidExport> {
        let range = DayRange::parse(from, to).map_err(InvalidExport)?;
        let format = ExportFormat::parse(format)
            .ok_or_else(|| InvalidExport(format!("format must be csv or jsonl, not {format:?}")))?;
        Ok(Self { range, format })
    }
}

/// Produces the export chunk by chunk: the header (CSV), then one chunk per page of decisions.
pub struct Exporter {
    storage: Arc<dyn StatisticsStore>,
    range: DayRange,
    format: ExportFormat,
    after: Option<(DateTime<Utc>, Uuid)>,
    started: bool,
    finished: bool,
    /// Decisions written so far.
    pub rows: u64,
}

impl Exporter {
    pub fn new(storage: Arc<dyn StatisticsStore>, range: DayRange, format: ExportFormat) -> Self {
        Self {
            storage,
            range,
            format,
            after: None,
            started: false,
            finished: false,
            rows: 0,
        }
    }

    /// The file's name: `consent-decisions-FROM-to-TO.EXT`.
    pub fn file_name(&self) -> String {
        format!(
            "consent-decisions-{}-to-{}.{}",
            self.range.from,
            self.range.to,
            self.format.extension()
        )
    }

    pub fn content_type(&self) -> &'static str {
        self.format.content_type()
    }

    /// The next chunk of the file; `None` once everything was written.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        if self.finished {
            return Ok(None);
        }
        let header = if !self.started && self.format == ExportFormat::Csv {
            Some(csv_chunk(&[], true)?)
        } else {
            None
        };
        self.started = true;
        let page = self
            .storage
            .events_between(self.range.start(), self.range.end(), self.after, PAGE_ROWS)
            .await?;
        if page.len() < PAGE_ROWS.unsigned_abs() as usize {
            self.finished = true;
        }
        if let Some(last) = page.last() {
            self.after = Some((last.created_at, last.id));
        }
        self.rows += page.len() as u64;
        let mut chunk = header.unwrap_or_default();
        chunk.extend(match self.format {
            ExportFormat::Csv => csv_chunk(&page, false)?,
            ExportFormat::JsonLines => json_lines(&page),
        });
        Ok(Some(chunk))
    }
}

fn timestamp(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn decided_at(event: &ConsentEvent) -> String {
    timestamp(event.created_at)
}

fn made_at(event: &ConsentEvent) -> Option<String> {
    event.made_at.map(timestamp)
}

fn place(event: &ConsentEvent) -> Option<&DecisionPlace> {
    event.jurisdiction.as_ref()
}

fn categories_json(event: &ConsentEvent) -> String {
    serde_json::to_string(&event.categories).unwrap_or_default()
}

fn csv_chunk(events: &[ConsentEvent], header: bool) -> Result<Vec<u8>, StorageError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |err: csv::Error| StorageError::Corrupt(format!("writing CSV: {err}"));
    if header {
        writer.write_record(COLUMNS).map_err(failed)?;
    }
    for event in events {
        let cells = [
            event.id.to_string().as_str(),
            &decided_at(event),
            event.ssaid.as_str(),
            event.policy_version.as_str(),
            &event.policy_hash,
            &event.banner_text_hash,
            &event.language,
            event.action.as_str(),
            event.source.as_str(),
            &categories_json(event),
            event.ip_prefix.as_deref().unwrap_or(""),
            event.ua_class.as_str(),
            event.origin.as_deref().unwrap_or(""),
            made_at(event).as_deref().unwrap_or(""),
            place(event).map_or("", |p| p.name.as_str()),
            place(event).map_or("", |p| p.regime.as_str()),
            place(event)
                .and_then(|p| p.country.as_deref())
                .unwrap_or(""),
            place(event).map_or("", |p| p.source.as_str()),
        ]
        .map(|cell| spreadsheet_safe(cell).into_owned());
        writer.write_record(&cells).map_err(failed)?;
    }
    writer
        .into_inner()
        .map_err(|err| StorageError::Corrupt(format!("writing CSV: {err}")))
}

/// A cell a spreadsheet shows as text: one that begins with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be evaluated as a formula when the export is opened, so it gets a
/// leading `'` (OWASP's CSV injection rule). Values the service writes never begin so; a
/// stored value that came from a request might.
fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

fn json_lines(events: &[ConsentEvent]) -> Vec<u8> {
    let mut out = Vec::new();
    for event in events {
        let line = serde_json::json!({
            "consent_id": event.id.to_string(),
            "decided_at": decided_at(event),
            "ssaid": event.ssaid.as_str(),
            "policy_version": event.policy_version.as_str(),
            "policy_hash": event.policy_hash,
            "banner_text_hash": event.banner_text_hash,
            "language": event.language,
            "action": event.action.as_str(),
            "source": event.source.as_str(),
            "categories": event.categories,
            "network_prefix": event.ip_prefix,
            "terminal_type": event.ua_class.as_str(),
            "origin": event.origin,
            "made_at": made_at(event),
            "jurisdiction": place(event).map(|p| p.name.as_str()),
            "regime": place(event).map(|p| p.regime.as_str()),
            "country": place(event).and_then(|p| p.country.as_deref()),
            "country_source": place(event).map(|p| p.source.as_str()),
        });
        out.extend(line.to_string().into_bytes());
        out.push(b'\n');
    }
    out
}

/// The export as an HTTP body stream. A storage error mid-way ends the stream with an error,
/// so the client sees a broken download rather than a silently short file. Fused: the
/// compression layer may poll once more after the end.
pub fn body_stream(
    exporter: Exporter,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    use futures_util::StreamExt as _;
    futures_util::stream::unfold(Some(exporter), |state| async move {
        let mut exporter = state?;
        match exporter.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(exporter))),
            Ok(None) => None,
            Err(err) => {
                tracing::error!(error = %err, rows = exporter.rows, "export failed mid-way");
                Some((Err(std::io::Error::other(err.to_string())), None))
            }
        }
    })
    .fuse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_whole_utc_days_in_order() {
        let range = DayRange::parse("2026-11-01", "2026-11-27").unwrap();
        assert_eq!(range.start().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(range.end().to_rfc3339(), "2026-11-28T00:00:00+00:00");
        assert!(DayRange::parse("2026-11-02", "2026-11-01").is_err());
        assert!(DayRange::parse("2026-11-31", "2026-12-01").is_err());
        assert!(DayRange::parse("yesterday", "2026-12-01").is_err());
        assert!(DayRange::parse("2026-11-01", "2026-11-01").is_ok());
    }

    #[test]
    fn formats() {
        assert_eq!(ExportFormat::parse("csv"), Some(ExportFormat::Csv));
        assert_eq!(ExportFormat::parse("jsonl"), Some(ExportFormat::JsonLines));
        assert_eq!(ExportFormat::parse("xlsx"), None);
    }

    #[test]
    fn requests_need_a_range_and_a_format() {
        let request = ExportRequest::parse("2026-11-01", "2026-11-27", "jsonl").unwrap();
        assert_eq!(request.format, ExportFormat::JsonLines);
        assert_eq!(
            request.range,
            DayRange::parse("2026-11-01", "2026-11-27").unwrap()
        );
        let refused = ExportRequest::parse("2026-11-01", "2026-11-27", "xlsx").unwrap_err();
        assert_eq!(refused.0, "format must be csv or jsonl, not \"xlsx\"");
        assert!(ExportRequest::parse("2026-11-02", "2026-11-01", "csv").is_err());
    }

    #[test]
    fn cells_a_spreadsheet_would_evaluate_are_made_text() {
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(formula), format!("'{formula}"));
        }
        for plain in ["", "https://docs.zeccloud.com", "203.0.113.0/24", "x=1"] {
            assert_eq!(spreadsheet_safe(plain), plain);
        }
    }

    fn event(place: Option<DecisionPlace>) -> ConsentEvent {
        ConsentEvent {
            id: Uuid::nil(),
            ssaid: crate::domain::Ssaid::from_random_bytes([1; 16]),
            policy_version: app::domain::PolicyVersion::parse("2026-12-07").unwrap(),
            categories: std::collections::BTreeMap::from([("necessary".to_owned(), true)]),
            action: app::domain::ConsentAction::Acknowledge,
            source: app::domain::ConsentSource::Banner,
            created_at: DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
            made_at: None,
            policy_hash: "sha256:p".to_owned(),
            banner_text_hash: "sha256:b".to_owned(),
            language: "en".to_owned(),
            ip_prefix: None,
            ua_class: crate::domain::TerminalType::Desktop,
            origin: None,
            jurisdiction: place,
            log_salt: None,
        }
    }

    #[test]
    fn rows_say_where_each_decision_was_made_or_nothing_before_jurisdictions() {
        let placed = event(Some(DecisionPlace {
            name: "united_states".to_owned(),
            regime: app::domain::Regime::OptOut,
            country: Some("US-CA".to_owned()),
            source: app::domain::CountrySource::Header,
        }));
        let csv =
            String::from_utf8(csv_chunk(&[placed.clone(), event(None)], true).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header = reader.headers().unwrap().clone();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let cell = |row: &csv::StringRecord, column: &str| {
            let at = header.iter().position(|name| name == column).unwrap();
            row[at].to_owned()
        };
        let place_of =
            |row| ["jurisdiction", "regime", "country", "country_source"].map(|c| cell(row, c));
        assert_eq!(
            place_of(&rows[0]),
            ["united_states", "opt_out", "US-CA", "header"]
        );
        assert_eq!(place_of(&rows[1]), ["", "", "", ""]);
        let lines = String::from_utf8(json_lines(&[placed, event(None)])).unwrap();
        let lines: Vec<serde_json::Value> = lines
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines[0]["regime"], "opt_out");
        assert_eq!(lines[0]["country_source"], "header");
        assert!(lines[1]["jurisdiction"].is_null() && lines[1]["country"].is_null());
        // The JSON Lines objects have exactly the columns as keys.
        let mut keys: Vec<&str> = lines[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut columns = COLUMNS.to_vec();
        keys.sort_unstable();
        columns.sort_unstable();
        assert_eq!(keys, columns);
    }

    #[test]
    fn csv_header_lists_the_columns() {
        let header = String::from_utf8(csv_chunk(&[], true).unwrap()).unwrap();
        assert_eq!(header.trim_end(), COLUMNS.join(","));
    }
}
