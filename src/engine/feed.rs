//! A change feed from Quay's audit log: instead of re-reading every
//! collection of an organization at each resync (one notification list per
//! repository: Quay has no organization-wide list), the operator reads the
//! newest entries of the organization's log (`GET /organization/{org}/logs`,
//! one request when nothing happened) and re-observes only what someone else
//! changed. Entries of the operator's own writes (its user, through an API
//! token) are skipped. When the log cannot say (more entries than a few pages
//! since the last poll) the whole organization is re-observed; when the token
//! cannot read the log, the feed is unavailable and the caller falls back to
//! observing everything at its resync interval.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};

use super::error::EngineError;
use super::quay::Quay;
use crate::quay::ErrorKind;
use crate::quay::api::logs::{LogEntry, LogQuery};

/// Pages of 20 entries read at most in one poll before giving up on detail.
const MAX_PAGES: usize = 5;

/// What someone else changed in an organization.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The organization itself or something of it outside any repository:
    /// teams, robots, quota, default permissions, auto-prune policies.
    pub organization: bool,
    /// Repositories whose settings, notifications, permissions, mirror or
    /// auto-prune policies changed.
    pub repositories: BTreeSet<String>,
}

/// The answer of one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Nobody else changed anything since the last poll.
    Unchanged,
    /// Someone else changed these.
    Changed(Changes),
    /// Too much happened to tell: observe the whole organization.
    Everything,
    /// The log cannot be read (Quay's message): observe everything at the
    /// resync interval instead.
    Unavailable(String),
}

/// The feed of one organization: where the last poll stopped.
#[derive(Debug, Clone)]
pub struct OrganizationFeed {
    organization: String,
    /// The newest entry seen, and every entry seen at that second (the log
    /// has whole seconds, so later entries may share it).
    watermark: Option<(DateTime<Utc>, HashSet<String>)>,
}

impl OrganizationFeed {
    /// A feed of `organization` whose first poll only finds where the log
    /// stands (what came before is what the caller observes anyway).
    pub fn new(organization: impl Into<String>) -> Self {
        OrganizationFeed {
            organization: organization.into(),
            watermark: None,
        }
    }

    /// The organization.
    pub fn organization(&self) -> &str {
        &self.organization
    }

    /// Reads the log entries since the last poll (usually one request) and
    /// tells what someone else changed.
    ///
    /// Quay lists entries newest first by their precise time but shows whole
    /// seconds, so the poll stops at the first entry it has seen before (all
    /// below it were seen too) or at one older than the watermark's second.
    /// Two entries alike in kind, second, performer and metadata cannot be
    /// told apart: a repeat of the very same change within the second of the
    /// watermark is missed, and the periodic full resync covers it.
    pub async fn poll(&mut self, quay: &Quay) -> Result<Poll, EngineError> {
        let me = quay.me().await?.username.clone();
        let first = self.watermark.is_none();
        let mut query = LogQuery::default();
        let mut changes = Changes::default();
        let mut newest: Option<(DateTime<Utc>, HashSet<String>)> = None;
        let mut reached = false;
        'pages: for _ in 0..MAX_PAGES {
            let page = match quay
                .client
                .organization_logs(&self.organization, &query)
                .await
            {
                Ok(page) => page,
                // Not an organization (400), or a token that may not read it.
                Err(e)
                    if matches!(
                        e.kind,
                        ErrorKind::BadRequest | ErrorKind::NotFound | ErrorKind::Forbidden
                    ) =>
                {
                    return Ok(Poll::Unavailable(e.message));
                }
                Err(e) => return Err(e.into()),
            };
            for entry in &page.logs {
                let fingerprint = fingerprint(entry);
                if let Some((since, seen)) = &self.watermark
                    && (entry.datetime < *since
                        || (entry.datetime == *since && seen.contains(&fingerprint)))
                {
                    reached = true;
                    break 'pages;
                }
                match &mut newest {
                    None => newest = Some((entry.datetime, HashSet::from([fingerprint]))),
                    Some((at, seen)) if *at == entry.datetime => {
                        seen.insert(fingerprint);
                    }
                    Some(_) => {}
                }
                if !is_own(entry, &me) {
                    classify(entry, &mut changes);
                }
            }
            // A first poll only needs the newest entries.
            match page.next_page {
                Some(next) if !first && !page.logs.is_empty() => query.next_page = Some(next),
                _ => {
                    reached = true;
                    break;
                }
            }
        }
        self.advance(newest);
        Ok(match (first, reached) {
            (true, _) => Poll::Unchanged,
            (false, false) => Poll::Everything,
            (false, true) if changes == Changes::default() => Poll::Unchanged,
            (false, true) => Poll::Changed(changes),
        })
    }

    fn advance(&mut self, newest: Option<(DateTime<Utc>, HashSet<String>)>) {
        let Some((at, seen)) = newest else {
            if self.watermark.is_none() {
                self.watermark = Some((DateTime::<Utc>::MIN_UTC, HashSet::new()));
            }
            return;
        };
        match &mut self.watermark {
            Some((since, before)) if *since == at => before.extend(seen),
            _ => self.watermark = Some((at, seen)),
        }
    }
}

/// Whether the entry records a write the operator made: its own user, through
/// an API token (a person signed in to Quay's UI as the same user has no token).
fn is_own(entry: &LogEntry, me: &str) -> bool {
    entry.performer.as_ref().is_some_and(|p| p.name == me)
        && entry.metadata.get("oauth_token_id").is_some()
}

/// Adds what an entry changed to `changes`: its repository, or the organization.
fn classify(entry: &LogEntry, changes: &mut Changes) {
    match entry.metadata.get("repo").and_then(|r| r.as_str()) {
        Some(repo) => {
            changes.repositories.insert(repo.to_owned());
        }
        None => changes.organization = true,
    }
}

fn fingerprint(entry: &LogEntry) -> String {
    format!(
        "{}|{}|{}|{}",
        entry.kind,
        entry.datetime.timestamp(),
        entry.performer.as_ref().map_or("", |p| p.name.as_str()),
        entry.metadata
    )
}
