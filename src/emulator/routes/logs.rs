//! Audit logs: `/organization/{orgname}/logs`, `/repository/{repository}/logs`
//! and `/user/logs`, each with its `aggregatelogs` (counts per kind and day).
//!
//! As observed on Quay 3.18 (and read from its table logs model): entries are
//! visible right after the write, newest first, 20 per page; `next_page` is an
//! opaque token on every non-empty page, and following it past the last page
//! gives `{"logs": []}` without one; a token that cannot be read is ignored.
//! The window is `now - 1 day .. now + 1 day`, or `starttime 00:00 ..
//! endtime + 1 day 00:00` (MM/DD/YYYY, UTC; a date in another format is
//! ignored); an end before the start is a 400. `aggregatelogs` refuses windows
//! over 30 days. An unknown namespace is a 400 `Invalid namespace requested`.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use serde_json::{Value, json};

use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::Ctx;
use super::super::state::{LogEntry, State};
use super::super::views::{entity_avatar, rfc2822};

/// Entries per page (Quay's `LOGS_PER_PAGE`).
pub const LOGS_PER_PAGE: usize = 20;

/// Longest window `aggregatelogs` accepts (Quay's `MAXIMUM_RANGE_SIZE`).
const MAX_AGGREGATE_WINDOW_DAYS: i64 = 30;

/// Flask's `abort(400)` message.
const BAD_REQUEST: &str =
    "The browser (or proxy) sent a request that this server could not understand.";

/// Whose entries a call reads.
enum Owner {
    /// Every entry of a namespace (organization or user).
    Namespace(String),
    /// Entries linked to one repository (by id: a repository created again
    /// under the same name does not inherit them).
    Repository(u64),
}

/// The time window of a call: `start <= datetime < end`.
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// Where a page starts, as the opaque `next_page` token carries it.
#[derive(Debug, PartialEq, Eq)]
enum PageToken {
    /// Entries with this id or older.
    From(u64),
    /// Past the last page.
    End,
}

impl PageToken {
    fn encode(&self) -> String {
        let value = match self {
            PageToken::From(id) => json!({ "start_id": id }),
            PageToken::End => json!({ "tti": 1 }),
        };
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    /// `None` for anything that is not a token of ours (Quay ignores those).
    fn decode(token: &str) -> Option<PageToken> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
        let value: Value = serde_json::from_slice(&bytes).ok()?;
        if let Some(id) = value.get("start_id").and_then(Value::as_u64) {
            return Some(PageToken::From(id));
        }
        value.get("tti").map(|_| PageToken::End)
    }
}

/// Python's `strptime(value + " UTC", "%m/%d/%Y %Z")`: month and day of one
/// or two digits, a four-digit year.
fn parse_day(value: &str) -> Option<NaiveDate> {
    let mut parts = value.split('/');
    let (month, day, year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let digits = |s: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(month, 1..=2) || !digits(day, 1..=2) || !digits(year, 4..=4) {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Quay's `_validate_logs_arguments`, then its `end < start` check.
fn window(ctx: &Ctx) -> Result<Window, ApiError> {
    let now = Utc::now();
    let day = |name: &str| ctx.query(name).and_then(parse_day).map(midnight);
    let start = day("starttime").unwrap_or(now - Duration::days(1));
    let end = day("endtime").unwrap_or(now) + Duration::days(1);
    if end < start {
        return Err(ApiError::message(BAD_REQUEST));
    }
    Ok(Window { start, end })
}

/// The `performer` filter: a user or robot (Quay's `get_user`), `Err(())`
/// when the name is given but no such user exists.
fn performer<'a>(ctx: &'a Ctx, state: &State) -> Result<Option<&'a str>, ()> {
    match ctx.query("performer").filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(name) if state.user_or_robot_exists(name) => Ok(Some(name)),
        Some(_) => Err(()),
    }
}

fn check_namespace(state: &State, owner: &Owner) -> Result<(), ApiError> {
    match owner {
        Owner::Namespace(ns) if state.namespace(ns).is_none() => Err(ApiError::message(format!(
            "Invalid namespace requested: {ns}"
        ))),
        _ => Ok(()),
    }
}

/// The entries of `owner` in the window (by `performer`, if given), oldest first.
fn matching<'a>(
    state: &'a State,
    owner: &'a Owner,
    window: &'a Window,
    performer: Option<&'a str>,
) -> impl Iterator<Item = &'a LogEntry> {
    state.logs.iter().filter(move |entry| {
        let owned = match owner {
            Owner::Namespace(ns) => entry.namespace == *ns,
            Owner::Repository(id) => entry.repo_id == Some(*id),
        };
        owned
            && entry.datetime >= window.start
            && entry.datetime < window.end
            && performer.is_none_or(|p| entry.performer.as_deref() == Some(p))
    })
}

fn entry_view(state: &State, entry: &LogEntry) -> Value {
    let mut view = json!({
        "kind": entry.kind,
        "metadata": entry.metadata,
        "ip": entry.ip,
        "datetime": rfc2822(&entry.datetime),
    });
    if let (Some(name), Some(map)) = (&entry.performer, view.as_object_mut()) {
        map.insert(
            "performer".into(),
            json!({
                "kind": "user",
                "name": name,
                "is_robot": name.contains('+'),
                "avatar": entity_avatar(state, name, "user"),
            }),
        );
    }
    view
}

/// One page of entries, newest first.
fn list(ctx: &Ctx, state: &State, owner: Owner, by_performer: bool) -> ApiResult {
    let window = window(ctx)?;
    let performer = if by_performer {
        // Quay's table logs model asserts that the performer exists.
        performer(ctx, state).map_err(|()| ApiError::server_error())?
    } else {
        None
    };
    check_namespace(state, &owner)?;
    let token = ctx.query("next_page").and_then(PageToken::decode);
    let mut entries: Vec<&LogEntry> = match token {
        Some(PageToken::End) => Vec::new(),
        Some(PageToken::From(id)) => matching(state, &owner, &window, performer)
            .filter(|e| e.id <= id)
            .collect(),
        None => matching(state, &owner, &window, performer).collect(),
    };
    entries.reverse();
    let next = match entries.get(LOGS_PER_PAGE) {
        Some(first_of_next) => Some(PageToken::From(first_of_next.id)),
        None if entries.is_empty() => None,
        None => Some(PageToken::End),
    };
    entries.truncate(LOGS_PER_PAGE);
    let mut answer = json!({
        "start_time": rfc2822(&window.start),
        "end_time": rfc2822(&window.end),
        "logs": entries.iter().map(|e| entry_view(state, e)).collect::<Vec<_>>(),
    });
    if let (Some(next), Some(map)) = (next, answer.as_object_mut()) {
        map.insert("next_page".into(), json!(next.encode()));
    }
    Ok(Reply::ok(answer))
}

/// The day Quay reports for a count: the entry's day of the month in the
/// window's first month, or in the next one when that day comes before the
/// window's first day (Quay's "synthetic date"). Where Quay would build an
/// impossible date (and fail), the entry's own day is reported.
fn reported_day(window_start: NaiveDate, day: NaiveDate) -> NaiveDate {
    match NaiveDate::from_ymd_opt(window_start.year(), window_start.month(), day.day()) {
        Some(d) if d.day() < window_start.day() => {
            d.checked_add_months(Months::new(1)).unwrap_or(day)
        }
        Some(d) => d,
        None => day,
    }
}

/// Counts per kind and day.
fn aggregate(ctx: &Ctx, state: &State, owner: Owner, by_performer: bool) -> ApiResult {
    let window = window(ctx)?;
    if window.end - window.start > Duration::days(MAX_AGGREGATE_WINDOW_DAYS) {
        return Err(ApiError::message("Invalid date range for logs"));
    }
    // Here Quay ignores a performer it does not know.
    let performer = if by_performer {
        performer(ctx, state).unwrap_or(None)
    } else {
        None
    };
    check_namespace(state, &owner)?;
    let mut counts: BTreeMap<(NaiveDate, &str), u64> = BTreeMap::new();
    for entry in matching(state, &owner, &window, performer) {
        *counts
            .entry((entry.datetime.date_naive(), entry.kind))
            .or_default() += 1;
    }
    let start = window.start.date_naive();
    let aggregated: Vec<Value> = counts
        .into_iter()
        .map(|((day, kind), count)| {
            json!({
                "kind": kind,
                "count": count,
                "datetime": rfc2822(&midnight(reported_day(start, day))),
            })
        })
        .collect();
    Ok(Reply::ok(json!({ "aggregated": aggregated })))
}

/// The organization (checking the caller administers it).
fn org_owner(ctx: &Ctx, state: &State) -> Result<Owner, ApiError> {
    let org = ctx.param("orgname");
    if !ctx.caller.is_org_admin(state, org) {
        return Err(ctx.deny());
    }
    Ok(Owner::Namespace(org.to_string()))
}

/// The repository (checking the caller administers it and that it exists).
fn repo_owner(ctx: &Ctx, state: &State) -> Result<Owner, ApiError> {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_admin_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    let repo = state.repo(&ns, &name).ok_or_else(ApiError::not_found)?;
    Ok(Owner::Repository(repo.id))
}

fn user_owner(ctx: &Ctx) -> Result<Owner, ApiError> {
    Ok(Owner::Namespace(ctx.user()?.to_string()))
}

/// `GET /api/v1/organization/{orgname}/logs`.
pub fn org_logs(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = org_owner(ctx, state)?;
    list(ctx, state, owner, true)
}

/// `GET /api/v1/organization/{orgname}/aggregatelogs`.
pub fn org_aggregate(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = org_owner(ctx, state)?;
    aggregate(ctx, state, owner, true)
}

/// `GET /api/v1/repository/{repository}/logs` (no `performer` filter).
pub fn repo_logs(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = repo_owner(ctx, state)?;
    list(ctx, state, owner, false)
}

/// `GET /api/v1/repository/{repository}/aggregatelogs`.
pub fn repo_aggregate(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = repo_owner(ctx, state)?;
    aggregate(ctx, state, owner, false)
}

/// `GET /api/v1/user/logs`: the caller's own namespace only.
pub fn user_logs(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = user_owner(ctx)?;
    list(ctx, state, owner, true)
}

/// `GET /api/v1/user/aggregatelogs`.
pub fn user_aggregate(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = user_owner(ctx)?;
    aggregate(ctx, state, owner, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates_are_read_like_pythons_strptime() {
        assert_eq!(parse_day("11/30/2026"), Some(day(2026, 11, 30)));
        assert_eq!(parse_day("1/2/2026"), Some(day(2026, 1, 2)));
        assert_eq!(parse_day("2026-11-30"), None);
        assert_eq!(parse_day("13/01/2026"), None);
        assert_eq!(parse_day("02/30/2026"), None);
        assert_eq!(parse_day("11/30/26"), None);
        assert_eq!(parse_day("11/30/2026/1"), None);
        assert_eq!(parse_day(""), None);
    }

    #[test]
    fn page_tokens_round_trip_and_garbage_is_none() {
        for token in [PageToken::From(42), PageToken::End] {
            assert_eq!(PageToken::decode(&token.encode()), Some(token));
        }
        assert_eq!(PageToken::decode("garbage"), None);
        assert_eq!(PageToken::decode(""), None);
    }

    #[test]
    fn aggregated_days_follow_quays_synthetic_date() {
        assert_eq!(
            reported_day(day(2026, 11, 29), day(2026, 11, 30)),
            day(2026, 11, 30)
        );
        assert_eq!(
            reported_day(day(2026, 11, 29), day(2026, 12, 1)),
            day(2026, 12, 1)
        );
        assert_eq!(
            reported_day(day(2026, 2, 28), day(2026, 3, 30)),
            day(2026, 3, 30)
        );
    }
}
