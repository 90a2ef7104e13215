//! Reading what an organization holds, with list calls only and through the
//! engine's shared views where it has them: the organization view (e-mail,
//! teams, quota), the robot, default-permission and auto-prune lists, the
//! repository list; one member list and one permission list per team; per
//! repository its user permissions, auto-prune policies and notifications
//! (Quay has no organization-wide list of any of these), and the mirror of a
//! repository in state `MIRROR`; the organization's proxy-cache
//! configuration and OAuth applications; per robot its federated identities
//! (Quay lists them nowhere else). Robot tokens are never asked for.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};

use crate::engine::permissions::LivePermissions;
use crate::engine::{EngineError, Quay, autoprune, prototypes};
use crate::quay::api::application::Application;
use crate::quay::api::autoprune::{AutoPrunePolicy, PolicyOwner};
use crate::quay::api::mirror::MirrorConfig;
use crate::quay::api::notification::Notification;
use crate::quay::api::organization::{Organization, TeamSummary};
use crate::quay::api::permission::Grantee;
use crate::quay::api::prototype::Prototype;
use crate::quay::api::proxycache::ProxyCache;
use crate::quay::api::repository::Repository;
use crate::quay::api::robot::{FederationEntry, Robot, RobotOwner};
use crate::quay::api::team::TeamMember;

/// Lists the export can leave unmanaged (absent from the specs) to save requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Skip {
    /// Repository permissions (one request per repository and one per team).
    Permissions,
    /// Auto-prune policies (one request per repository and organization).
    AutoPrune,
    /// Team members (one request per team).
    Members,
    /// Robot federation (one request per robot).
    Federation,
}

/// How many repositories are read at once.
const CONCURRENCY: usize = 4;

/// What one organization holds in Quay.
#[derive(Debug)]
pub struct OrganizationState {
    /// The organization view: e-mail, teams, quota.
    pub view: Organization,
    /// Default permissions.
    pub default_permissions: Vec<Prototype>,
    /// Auto-prune policies, unless skipped.
    pub auto_prune: Option<Vec<AutoPrunePolicy>>,
    /// Robots (without tokens).
    pub robots: Vec<Robot>,
    /// The federated identities of each robot (by full name), unless skipped.
    pub federation: Option<BTreeMap<String, Vec<FederationEntry>>>,
    /// Teams, by name.
    pub teams: Vec<TeamState>,
    /// Repositories, by name.
    pub repositories: Vec<RepositoryState>,
    /// The proxy-cache configuration, if any (Quay does not show its credentials).
    pub proxy_cache: Option<ProxyCache>,
    /// OAuth applications; `None` when the token may not list them (only
    /// organization administrators may).
    pub applications: Option<Vec<Application>>,
}

/// A team and, unless skipped, its members.
#[derive(Debug)]
pub struct TeamState {
    /// As the organization view lists it.
    pub team: TeamSummary,
    /// Members (invited ones included, as the engine counts them).
    pub members: Option<Vec<TeamMember>>,
}

/// A repository with what belongs to it.
#[derive(Debug)]
pub struct RepositoryState {
    /// As the repository list shows it.
    pub repo: Repository,
    /// User (robots included) and team permissions, unless skipped.
    pub permissions: Option<LivePermissions>,
    /// Auto-prune policies, unless skipped.
    pub auto_prune: Option<Vec<AutoPrunePolicy>>,
    /// Notifications.
    pub notifications: Vec<Notification>,
    /// The mirror configuration (of repositories in state `MIRROR`).
    pub mirror: Option<MirrorConfig>,
}

/// Reads organization `name`; `None` when it does not exist (or the token
/// cannot see it).
pub async fn organization(
    quay: &Quay,
    name: &str,
    skip: &[Skip],
) -> Result<Option<OrganizationState>, EngineError> {
    let Some(view) = quay.organization(name).await?.as_ref().clone() else {
        return Ok(None);
    };
    let client = &quay.client;
    let default_permissions = prototypes::observe(quay, name).await?;
    let auto_prune = match skip.contains(&Skip::AutoPrune) {
        true => None,
        false => Some(autoprune::observe(quay, &PolicyOwner::Organization(name.to_owned())).await?),
    };
    let owner = RobotOwner::Organization(name.to_owned());
    let robots = client.list_robots(&owner).await?;
    let federation = match skip.contains(&Skip::Federation) {
        true => None,
        false => Some(federation(quay, &owner, &robots).await?),
    };
    let mut teams = Vec::new();
    // Team grants by repository, from one list per team.
    let mut team_grants: BTreeMap<String, LivePermissions> = BTreeMap::new();
    for team in view.teams.values() {
        let members = match skip.contains(&Skip::Members) {
            true => None,
            // A team deleted since the organization was read is left out.
            false => match client.list_team_members(name, &team.name).await? {
                Some(members) => Some(members),
                None => continue,
            },
        };
        if !skip.contains(&Skip::Permissions) {
            let permissions = match client.list_team_permissions(name, &team.name).await {
                Ok(permissions) => permissions,
                // A team deleted since the organization was read is left out.
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            for p in permissions {
                team_grants
                    .entry(p.repository.name)
                    .or_default()
                    .insert((Grantee::Team, team.name.clone()), p.role);
            }
        }
        teams.push(TeamState {
            team: team.clone(),
            members,
        });
    }
    let proxy_cache = client.get_proxy_cache(name).await?;
    let applications = match quay.applications(name).await {
        Ok(apps) => Some(apps.as_ref().clone()),
        Err(e) if e.kind == crate::quay::ErrorKind::Forbidden => None,
        Err(e) => return Err(e.into()),
    };
    let listed = quay.repositories(name).await?;
    let mut listed: Vec<Repository> = listed.as_ref().clone();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    let repositories = futures::stream::iter(listed)
        .map(|repo| {
            let grants = team_grants.remove(&repo.name).unwrap_or_default();
            repository(quay, repo, grants, skip)
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(Some(OrganizationState {
        view,
        default_permissions,
        auto_prune,
        robots,
        federation,
        teams,
        repositories,
        proxy_cache,
        applications,
    }))
}

/// The federated identities of each robot, `CONCURRENCY` at a time; a robot
/// deleted since it was listed is left out.
async fn federation(
    quay: &Quay,
    owner: &RobotOwner,
    robots: &[Robot],
) -> Result<BTreeMap<String, Vec<FederationEntry>>, EngineError> {
    let read = futures::stream::iter(robots)
        .map(|robot| async move {
            match quay
                .client
                .robot_federation(owner, super::convert::short(&robot.name))
                .await
            {
                Ok(entries) => Ok(Some((robot.name.clone(), entries))),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(EngineError::from(e)),
            }
        })
        .buffered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(read.into_iter().flatten().collect())
}

/// Reads what belongs to one repository; `team_grants` are its team permissions.
async fn repository(
    quay: &Quay,
    repo: Repository,
    team_grants: LivePermissions,
    skip: &[Skip],
) -> Result<RepositoryState, EngineError> {
    let (ns, name) = (repo.namespace.as_str(), repo.name.as_str());
    let permissions = match skip.contains(&Skip::Permissions) {
        true => None,
        false => {
            let mut all = team_grants;
            for (user, p) in quay
                .client
                .list_repository_permissions(ns, name, Grantee::User)
                .await?
            {
                all.insert((Grantee::User, user), p.role);
            }
            Some(all)
        }
    };
    let auto_prune = match skip.contains(&Skip::AutoPrune) {
        true => None,
        false => {
            let owner = PolicyOwner::Repository(ns.to_owned(), name.to_owned());
            Some(autoprune::observe(quay, &owner).await?)
        }
    };
    let notifications = quay.notifications(ns, name).await?.as_ref().clone();
    let mirror = match repo.state.as_str() {
        "MIRROR" => quay.client.get_mirror(ns, name).await?,
        _ => None,
    };
    Ok(RepositoryState {
        repo,
        permissions,
        auto_prune,
        notifications,
        mirror,
    })
}
