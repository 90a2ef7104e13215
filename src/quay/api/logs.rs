//! Audit logs ("usage logs") of an organization, a repository or the token's
//! own user: every change made through Quay, newest first, 20 per page, and
//! counts per kind and day.
//!
//! Quay records each write as it happens (no worker involved), so the log is a
//! change feed: a poll with nothing new costs one request. Entries carry the
//! day and time to the second, the performer, and `metadata` naming what
//! changed (`repo`, `team`, `robot`, ... plus `oauth_token_*` keys when the
//! change was made with an OAuth token).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// Quay's 400 for a namespace that does not exist.
const NAMESPACE_MISSING: &[&str] = &["Invalid namespace requested"];

/// Which entries to read. Quay's window is whole UTC days, `start` 00:00 to
/// the end of `end` (both inclusive); without dates it is the last and the
/// next 24 hours (the default when `start`/`end` are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// First day (UTC).
    pub start: Option<NaiveDate>,
    /// Last day (UTC), inclusive.
    pub end: Option<NaiveDate>,
    /// Only entries by this user or robot. An unknown name is an error on
    /// the list calls (Quay fails with a 500) and ignored by the aggregates;
    /// repository logs have no such filter.
    pub performer: Option<String>,
    /// The page to read: `next_page` of the previous page (opaque).
    pub next_page: Option<String>,
}

/// One page of entries, newest first.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LogPage {
    /// Up to 20 entries.
    pub logs: Vec<LogEntry>,
    /// Token of the next page. Quay sets it on every page with entries, so
    /// the end is the first page without any.
    #[serde(default)]
    pub next_page: Option<String>,
    /// Start of the window Quay used.
    #[serde(deserialize_with = "rfc2822")]
    pub start_time: DateTime<Utc>,
    /// End of the window Quay used (exclusive).
    #[serde(deserialize_with = "rfc2822")]
    pub end_time: DateTime<Utc>,
}

/// One change.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LogEntry {
    /// What happened, e.g. `create_repo`, `set_repo_description`,
    /// `org_set_team_role`, `repo_mirror_config_changed`.
    pub kind: String,
    /// Details; which keys depends on the kind (`repo` for everything about
    /// a repository).
    #[serde(default = "empty_object", deserialize_with = "null_as_empty_object")]
    pub metadata: Value,
    /// When, to the second.
    #[serde(deserialize_with = "rfc2822")]
    pub datetime: DateTime<Utc>,
    /// Who (absent for changes made by Quay itself).
    #[serde(default)]
    pub performer: Option<Performer>,
    /// The client's IP address, as Quay saw it.
    #[serde(default)]
    pub ip: Option<String>,
}

impl LogEntry {
    /// The repository the entry is about (its `repo` metadata), if any.
    pub fn repository(&self) -> Option<&str> {
        self.metadata.get("repo").and_then(Value::as_str)
    }
}

/// The user or robot who made a change.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Performer {
    /// `user` (also for robots).
    #[serde(default)]
    pub kind: String,
    /// Username, or `namespace+robot`.
    pub name: String,
    /// Whether it is a robot account.
    #[serde(default, deserialize_with = "null_as_false")]
    pub is_robot: bool,
}

/// How many entries of one kind a day has.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct AggregatedLog {
    /// Entry kind.
    pub kind: String,
    /// Number of entries.
    pub count: u64,
    /// The day (00:00 UTC).
    #[serde(deserialize_with = "rfc2822")]
    pub datetime: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Aggregated {
    aggregated: Vec<AggregatedLog>,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

fn null_as_empty_object<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => empty_object(),
        other => other,
    })
}

fn null_as_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

/// Quay's dates, like `Mon, 30 Nov 2026 20:13:31 -0000` (RFC 2822).
fn rfc2822<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    parse_date(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not an RFC 2822 date")))
}

/// Parses an RFC 2822 date (`-0000` and `GMT` mean UTC).
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Quay's date parameter format (`%m/%d/%Y`).
fn day(date: NaiveDate) -> String {
    date.format("%m/%d/%Y").to_string()
}

fn window<'a>(mut call: Call<'a>, start: Option<NaiveDate>, end: Option<NaiveDate>) -> Call<'a> {
    if let Some(start) = start {
        call = call.query("starttime", day(start));
    }
    if let Some(end) = end {
        call = call.query("endtime", day(end));
    }
    call
}

fn page_call<'a>(path: String, query: &LogQuery, with_performer: bool) -> Call<'a> {
    let mut call = window(Call::get(path), query.start, query.end);
    if with_performer && let Some(performer) = &query.performer {
        call = call.query("performer", performer);
    }
    if let Some(next) = &query.next_page {
        call = call.query("next_page", next);
    }
    call
}

impl QuayClient {
    async fn log_page(&self, call: Call<'_>) -> Result<LogPage, QuayError> {
        self.send(call)
            .await
            .map_err(|e| e.not_found_if(NAMESPACE_MISSING))?
            .json()
    }

    async fn aggregated(&self, call: Call<'_>) -> Result<Vec<AggregatedLog>, QuayError> {
        let answer: Aggregated = self
            .send(call)
            .await
            .map_err(|e| e.not_found_if(NAMESPACE_MISSING))?
            .json()?;
        Ok(answer.aggregated)
    }

    /// One page of an organization's log. Needs org admin (or a superuser
    /// with full access); an unknown organization gives `NotFound` (Quay
    /// answers 400 "Invalid namespace requested").
    pub async fn organization_logs(
        &self,
        org: &str,
        query: &LogQuery,
    ) -> Result<LogPage, QuayError> {
        self.log_page(page_call(format!("/organization/{org}/logs"), query, true))
            .await
    }

    /// One page of a repository's log (entries linked to this repository;
    /// `query.performer` is not used: Quay has no such filter here). An
    /// unknown repository gives `NotFound`.
    pub async fn repository_logs(
        &self,
        namespace: &str,
        repository: &str,
        query: &LogQuery,
    ) -> Result<LogPage, QuayError> {
        let path = format!("/repository/{namespace}/{repository}/logs");
        self.log_page(page_call(path, query, false)).await
    }

    /// One page of the token user's own namespace log (not its organizations').
    pub async fn user_logs(&self, query: &LogQuery) -> Result<LogPage, QuayError> {
        self.log_page(page_call("/user/logs".to_owned(), query, true))
            .await
    }

    /// Entries per kind and day of an organization. Quay refuses windows of
    /// more than 30 days (`BadRequest` "Invalid date range for logs").
    pub async fn organization_aggregate_logs(
        &self,
        org: &str,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<Vec<AggregatedLog>, QuayError> {
        let call = window(
            Call::get(format!("/organization/{org}/aggregatelogs")),
            start,
            end,
        );
        self.aggregated(call).await
    }

    /// Entries per kind and day of a repository.
    pub async fn repository_aggregate_logs(
        &self,
        namespace: &str,
        repository: &str,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<Vec<AggregatedLog>, QuayError> {
        let path = format!("/repository/{namespace}/{repository}/aggregatelogs");
        self.aggregated(window(Call::get(path), start, end)).await
    }

    /// Entries per kind and day of the token user's own namespace.
    pub async fn user_aggregate_logs(
        &self,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<Vec<AggregatedLog>, QuayError> {
        let call = window(Call::get("/user/aggregatelogs"), start, end);
        self.aggregated(call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quay_dates_parse_as_utc() {
        let at = parse_date("Mon, 30 Nov 2026 20:13:31 -0000").expect("date");
        assert_eq!(at.to_rfc3339(), "2026-11-30T20:13:31+00:00");
        let at = parse_date("Tue, 01 Dec 2026 00:00:00 GMT").expect("date");
        assert_eq!(at.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(parse_date("2026-11-30T20:13:31Z"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn a_page_is_read_and_a_bad_date_is_an_error() {
        let page: LogPage = serde_json::from_value(serde_json::json!({
            "start_time": "Sun, 29 Nov 2026 20:16:06 -0000",
            "end_time": "Tue, 01 Dec 2026 20:16:06 -0000",
            "logs": [{
                "kind": "create_repo",
                "metadata": {"repo": "app", "namespace": "acme"},
                "ip": "127.0.0.1",
                "datetime": "Mon, 30 Nov 2026 20:16:07 -0000",
                "performer": {"kind": "user", "name": "acme+bot", "is_robot": true, "avatar": {}},
            }, {
                "kind": "org_create",
                "metadata": null,
                "datetime": "Mon, 30 Nov 2026 20:16:06 -0000",
            }],
            "next_page": "token",
        }))
        .expect("page");
        assert_eq!(page.logs.len(), 2);
        assert_eq!(page.logs[0].repository(), Some("app"));
        assert!(page.logs[0].performer.as_ref().is_some_and(|p| p.is_robot));
        assert_eq!(page.logs[1].metadata, empty_object());
        assert_eq!(page.logs[1].performer, None);
        assert_eq!(page.next_page.as_deref(), Some("token"));

        let bad = serde_json::from_value::<LogEntry>(serde_json::json!({
            "kind": "create_repo",
            "datetime": "yesterday",
        }));
        assert!(bad.is_err());
    }
}
