//! What Quay holds, as custom resources: the inverse of the controllers'
//! conversion, so that `plan` of the result finds everything in sync. Every
//! resource has `deletionPolicy: Retain` (deleting it never deletes the Quay
//! object). Empty lists and descriptions are left out: not managed, and not
//! read at every resync. What a kind cannot represent (an unknown role, a
//! notification whose configuration holds a token) is left out with a note.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::ObjectMeta;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::manifest::{Group, Manifest};
use super::names::{MAX_NAME, Wanted, unique_names};
use super::read::OrganizationState;
use super::repository;
use crate::crd::quota::{QuotaThreshold, ThresholdKind};
use crate::crd::reference::OrganizationTarget;
use crate::crd::robot::FederatedIdentity;
use crate::crd::{
    AutoPrunePolicySpec, ConnectionRef, DefaultPermission, Delegate, DeletionPolicy, GranteeKind,
    LocalRef, Management, MemberKind, QuayOAuthApplication, QuayOAuthApplicationSpec,
    QuayOrganization, QuayOrganizationSpec, QuayProxyCache, QuayProxyCacheSpec, QuayQuota,
    QuayQuotaSpec, QuayRobotAccount, QuayRobotAccountSpec, QuayTeam, QuayTeamSpec, Role,
    TeamMember, TeamRole,
};
use crate::gitops::resources::Kind;
use crate::quay::api::application::Application;
use crate::quay::api::autoprune::AutoPrunePolicy;
use crate::quay::api::prototype::Prototype;
use crate::quay::api::robot::{FederationEntry, Robot};

/// Where the resources go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// `metadata.namespace` of every resource (none: the current one).
    pub namespace: Option<String>,
    /// The QuayConnection the resources name (none: `default`).
    pub connection: Option<String>,
}

/// The conversion's state: where the resources go, and the notes on what was left out.
pub(super) struct Context<'a> {
    target: &'a Target,
    /// What was left out, and why (never a value).
    pub notes: Vec<String>,
}

impl Context<'_> {
    /// `metadata` of a resource (or Secret) named `name`.
    pub fn meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: self.target.namespace.clone(),
            ..ObjectMeta::default()
        }
    }

    /// The connection, and `deletionPolicy: Retain`: the object is adopted.
    pub fn management(&self) -> Management {
        Management {
            connection_ref: self
                .target
                .connection
                .as_deref()
                .map(ConnectionRef::namespaced),
            deletion_policy: Some(DeletionPolicy::Retain),
            ..Management::default()
        }
    }

    /// Records what was left out of `what`.
    pub fn note(&mut self, what: &str, why: impl std::fmt::Display) {
        self.notes.push(format!("{what}: {why}"));
    }
}

/// A value Quay spells as the enum's serde name (`read`, `NORMAL`, `repo_push`).
pub(super) fn parse<T: DeserializeOwned>(quay: &str) -> Option<T> {
    serde_json::from_value(Value::String(quay.to_owned())).ok()
}

/// `Some(quay_name)` when the Kubernetes name differs from it.
pub(super) fn differs(quay_name: &str, name: &str) -> Option<String> {
    (quay_name != name).then(|| quay_name.to_owned())
}

/// `Some(text)` unless it is empty.
pub(super) fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// Robot names leave room for the `-robot` suffix of their credentials Secret.
const ROBOT_NAME: usize = MAX_NAME - "-robot".len();

/// OAuth application names leave room for the `-oauth` suffix of their Secret.
const OAUTH_NAME: usize = MAX_NAME - "-oauth".len();

/// Every organization's resources, and the notes on what was left out.
pub fn convert(organizations: &[OrganizationState], target: &Target) -> (Vec<Group>, Vec<String>) {
    let mut cx = Context {
        target,
        notes: Vec::new(),
    };
    let names = |wanted: Vec<Wanted>, max: usize| unique_names(&wanted, max);
    let org_names = names(
        organizations
            .iter()
            .map(|o| Wanted::new("", &o.view.name))
            .collect(),
        MAX_NAME,
    );
    let robot_names = names(
        organizations
            .iter()
            .flat_map(|o| {
                o.robots
                    .iter()
                    .map(|r| Wanted::new(&o.view.name, short(&r.name)))
            })
            .collect(),
        ROBOT_NAME,
    );
    let team_names = names(
        organizations
            .iter()
            .flat_map(|o| {
                o.teams
                    .iter()
                    .map(|t| Wanted::new(&o.view.name, &t.team.name))
            })
            .collect(),
        MAX_NAME,
    );
    let applications: Vec<Vec<&Application>> = organizations
        .iter()
        .map(|o| exportable_applications(&mut cx, o))
        .collect();
    let application_names = names(
        organizations
            .iter()
            .zip(&applications)
            .flat_map(|(o, apps)| apps.iter().map(|a| Wanted::new(&o.view.name, &a.name)))
            .collect(),
        OAUTH_NAME,
    );
    let mut groups = Vec::new();
    let (mut robot_names, mut team_names) = (robot_names.into_iter(), team_names.into_iter());
    let mut application_names = application_names.into_iter();
    for ((state, org_name), apps) in organizations.iter().zip(&org_names).zip(&applications) {
        groups.push(organization(&mut cx, state, org_name));
        groups.extend(quota(&mut cx, state, org_name));
        groups.extend(proxy_cache(&cx, state, org_name));
        for app in apps {
            let name = application_names.next().expect("one name per application");
            groups.push(application(&cx, &state.view.name, app, &name));
        }
        for robot in &state.robots {
            let name = robot_names.next().expect("one name per robot");
            groups.push(robot_account(&mut cx, state, robot, &name));
        }
        for team in &state.teams {
            let name = team_names.next().expect("one name per team");
            groups.extend(team_resource(&mut cx, &state.view.name, team, &name));
        }
    }
    groups.extend(repository::convert(&mut cx, organizations));
    groups.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    (groups, cx.notes)
}

/// The short name of a robot (`acme+ci` → `ci`).
pub(super) fn short(full: &str) -> &str {
    full.split_once('+').map_or(full, |(_, s)| s)
}

fn organization(cx: &mut Context, state: &OrganizationState, name: &str) -> Group {
    let org = &state.view;
    let what = format!("organization {}", org.name);
    let spec = QuayOrganizationSpec {
        name: differs(&org.name, name),
        email: org.email.as_deref().and_then(non_empty),
        default_permissions: default_permissions(cx, &what, &state.default_permissions),
        auto_prune_policies: state
            .auto_prune
            .as_ref()
            .and_then(|p| auto_prune(cx, &what, p)),
        management: cx.management(),
    };
    let object = QuayOrganization {
        metadata: cx.meta(name),
        spec,
        status: None,
    };
    Group::of(
        Kind::Organization,
        Manifest::new(Kind::Organization.name(), name, &object, Vec::new()),
    )
}

fn default_permissions(
    cx: &mut Context,
    what: &str,
    live: &[Prototype],
) -> Option<Vec<DefaultPermission>> {
    let mut list = Vec::new();
    for p in live {
        let kind = match (p.delegate.kind.as_str(), p.delegate.is_robot) {
            ("user", true) => GranteeKind::Robot,
            ("user", false) => GranteeKind::User,
            ("team", _) => GranteeKind::Team,
            (other, _) => {
                cx.note(
                    what,
                    format!("default permissions left unmanaged: delegate kind {other:?}"),
                );
                return None;
            }
        };
        let Some(role) = parse::<Role>(&p.role) else {
            cx.note(
                what,
                format!("default permissions left unmanaged: role {:?}", p.role),
            );
            return None;
        };
        let permission = DefaultPermission {
            delegate: Delegate {
                kind,
                name: p.delegate.name.clone(),
            },
            role,
            activating_user: p.activating_user.as_ref().map(|u| u.name.clone()),
        };
        // Quay may hold duplicates; the operator keeps one of each.
        if !list.iter().any(|d: &DefaultPermission| {
            d.delegate == permission.delegate && d.activating_user == permission.activating_user
        }) {
            list.push(permission);
        }
    }
    (!list.is_empty()).then_some(list)
}

/// Auto-prune policies in spec form; `None` when empty or not representable.
pub(super) fn auto_prune(
    cx: &mut Context,
    what: &str,
    live: &[AutoPrunePolicy],
) -> Option<Vec<AutoPrunePolicySpec>> {
    let mut list = Vec::new();
    for policy in live {
        let rule = &policy.rule;
        let (number_of_tags, creation_date) = match (rule.method.as_str(), &rule.value) {
            ("number_of_tags", Value::Number(n)) => {
                (n.as_i64().and_then(|n| i32::try_from(n).ok()), None)
            }
            ("creation_date", Value::String(age)) => (None, Some(age.clone())),
            _ => (None, None),
        };
        if number_of_tags.is_none() && creation_date.is_none() {
            cx.note(
                what,
                format!(
                    "auto-prune policies left unmanaged: method {:?} with that value is not one a spec can hold",
                    rule.method
                ),
            );
            return None;
        }
        list.push(AutoPrunePolicySpec {
            number_of_tags,
            creation_date,
            tag_pattern: rule.tag_pattern.clone(),
            tag_pattern_matches: rule.tag_pattern_matches,
        });
    }
    (!list.is_empty()).then_some(list)
}

fn quota(cx: &mut Context, state: &OrganizationState, org_name: &str) -> Option<Group> {
    let org = &state.view;
    let quota = org.quotas.first()?;
    let what = format!("quota of organization {}", org.name);
    if quota.limit_bytes == 0 {
        cx.note(&what, "not exported: its limit is 0 bytes");
        return None;
    }
    let mut limits = Vec::new();
    for limit in &quota.limits {
        let Some(kind) = parse::<ThresholdKind>(&limit.kind) else {
            cx.note(
                &what,
                format!("thresholds left unmanaged: type {:?}", limit.kind),
            );
            limits.clear();
            break;
        };
        limits.push(QuotaThreshold {
            kind,
            percent: limit.limit_percent,
        });
    }
    limits.sort_by_key(|t| (t.kind.as_str(), t.percent));
    let spec = QuayQuotaSpec {
        organization: None,
        organization_ref: Some(LocalRef {
            name: org_name.to_owned(),
        }),
        user: None,
        limit: Quantity(quantity(quota.limit_bytes)),
        limits: (!limits.is_empty()).then_some(limits),
        management: cx.management(),
    };
    let object = QuayQuota {
        metadata: cx.meta(org_name),
        spec,
        status: None,
    };
    Some(Group::of(
        Kind::Quota,
        Manifest::new(Kind::Quota.name(), org_name, &object, Vec::new()),
    ))
}

/// The organization's proxy cache. Quay shows no credentials, so none are
/// written; a comment says how to add them.
fn proxy_cache(cx: &Context, state: &OrganizationState, org_name: &str) -> Option<Group> {
    let cache = state.proxy_cache.as_ref()?;
    let spec = QuayProxyCacheSpec {
        target: OrganizationTarget {
            organization: None,
            organization_ref: Some(LocalRef {
                name: org_name.to_owned(),
            }),
        },
        upstream_registry: cache.upstream_registry.clone(),
        credentials_secret_ref: None,
        expiration_seconds: cache.expiration_s,
        insecure: cache.insecure,
        management: cx.management(),
    };
    let object = QuayProxyCache {
        metadata: cx.meta(org_name),
        spec,
        status: None,
    };
    let comment = vec![
        "Quay does not show whether the upstream credentials are set: if the cache logs in,"
            .to_owned(),
        "add credentialsSecretRef (a change recreates the configuration in Quay).".to_owned(),
    ];
    Some(Group::of(
        Kind::ProxyCache,
        Manifest::new(Kind::ProxyCache.name(), org_name, &object, comment),
    ))
}

/// Bytes as a Kubernetes quantity, in the largest binary unit that is exact.
fn quantity(bytes: u64) -> String {
    let mut value = bytes;
    let mut unit = "";
    for next in ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] {
        if value < 1024 || !value.is_multiple_of(1024) {
            break;
        }
        value /= 1024;
        unit = next;
    }
    format!("{value}{unit}")
}

fn robot_account(cx: &mut Context, state: &OrganizationState, robot: &Robot, name: &str) -> Group {
    // Unread (skipped) or empty: left unmanaged.
    let entries = state
        .federation
        .as_ref()
        .and_then(|all| all.get(&robot.name))
        .filter(|entries| !entries.is_empty());
    let federation = match entries {
        Some(entries) if !federation_fits(entries) => {
            cx.note(
                &format!("federation of robot {}", robot.name),
                "left unmanaged: Quay holds more than 50 identities, or one the CRD refuses (an issuer that is not an http(s) URL of at most 2048 characters, a subject over 1024)",
            );
            None
        }
        Some(entries) => Some(
            entries
                .iter()
                .map(|e| FederatedIdentity {
                    issuer: e.issuer.clone(),
                    subject: e.subject.clone(),
                })
                .collect(),
        ),
        None => None,
    };
    let spec = QuayRobotAccountSpec {
        organization: Some(state.view.name.clone()),
        user: None,
        name: differs(short(&robot.name), name),
        description: non_empty(&robot.description),
        secret_name: None,
        federation,
        management: cx.management(),
    };
    let object = QuayRobotAccount {
        metadata: cx.meta(name),
        spec,
        status: None,
    };
    Group::of(
        Kind::RobotAccount,
        Manifest::new(Kind::RobotAccount.name(), name, &object, Vec::new()),
    )
}

/// Whether a robot's federated identities fit QuayRobotAccount's schema.
fn federation_fits(entries: &[FederationEntry]) -> bool {
    entries.len() <= 50
        && entries.iter().all(|e| {
            (e.issuer.starts_with("https://") || e.issuer.starts_with("http://"))
                && (8..=2048).contains(&e.issuer.len())
                && (1..=1024).contains(&e.subject.len())
        })
}

/// The organization's OAuth applications whose name is theirs alone (the
/// operator adopts an application by name); a note for the others.
fn exportable_applications<'a>(
    cx: &mut Context,
    state: &'a OrganizationState,
) -> Vec<&'a Application> {
    let org = &state.view.name;
    let Some(apps) = &state.applications else {
        cx.note(
            &format!("OAuth applications of {org}"),
            "not exported: the token may not list them (only organization administrators may)",
        );
        return Vec::new();
    };
    let mut by_name: BTreeMap<&str, Vec<&Application>> = BTreeMap::new();
    for app in apps {
        by_name.entry(&app.name).or_default().push(app);
    }
    let mut unique = Vec::new();
    for (app_name, apps) in by_name {
        match apps[..] {
            [app] => unique.push(app),
            _ => cx.note(
                &format!("OAuth application {org}/{app_name}"),
                format!(
                    "not exported: {} applications have this name, and the operator adopts an application only by a name of its own; rename all but one in Quay, then export again",
                    apps.len()
                ),
            ),
        }
    }
    unique
}

/// An OAuth application; its Secret is written by the operator, from Quay,
/// so none is exported.
fn application(cx: &Context, org: &str, app: &Application, name: &str) -> Group {
    let spec = QuayOAuthApplicationSpec {
        target: OrganizationTarget {
            organization: Some(org.to_owned()),
            organization_ref: None,
        },
        name: differs(&app.name, name),
        redirect_uri: app.redirect_uri.clone(),
        application_uri: app.application_uri.clone(),
        description: app.description.clone(),
        avatar_email: app.avatar_email.clone().filter(|e| !e.is_empty()),
        secret_name: None,
        management: cx.management(),
    };
    let object = QuayOAuthApplication {
        metadata: cx.meta(name),
        spec,
        status: None,
    };
    Group::of(
        Kind::OAuthApplication,
        Manifest::new(Kind::OAuthApplication.name(), name, &object, Vec::new()),
    )
}

fn team_resource(
    cx: &mut Context,
    org: &str,
    state: &super::read::TeamState,
    name: &str,
) -> Option<Group> {
    let team = &state.team;
    let Some(role) = parse::<TeamRole>(&team.role) else {
        cx.note(
            &format!("team {org}/{}", team.name),
            format!("not exported: role {:?}", team.role),
        );
        return None;
    };
    let members = state.members.as_ref().map(|members| {
        let mut list: Vec<TeamMember> = members
            .iter()
            .map(|m| TeamMember {
                kind: match (m.invited_email(), m.is_robot) {
                    (Some(_), _) => MemberKind::Email,
                    (None, true) => MemberKind::Robot,
                    (None, false) => MemberKind::User,
                },
                name: m.key().to_owned(),
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    });
    let spec = QuayTeamSpec {
        organization: org.to_owned(),
        name: differs(&team.name, name),
        role,
        description: non_empty(&team.description),
        members: members.filter(|m| !m.is_empty()),
        management: cx.management(),
    };
    let object = QuayTeam {
        metadata: cx.meta(name),
        spec,
        status: None,
    };
    Some(Group::of(
        Kind::Team,
        Manifest::new(Kind::Team.name(), name, &object, Vec::new()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federation_lists_the_crd_would_refuse_are_left_unmanaged() {
        let entry = |issuer: &str, subject: &str| FederationEntry {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
        };
        let fine = entry("https://issuer.example.com", "system:serviceaccount:a:b");
        assert!(federation_fits(std::slice::from_ref(&fine)));
        assert!(!federation_fits(&vec![fine.clone(); 51]));
        assert!(!federation_fits(&[entry("issuer.example.com", "s")]));
        assert!(!federation_fits(&[entry(
            "https://i.example.com",
            &"s".repeat(1025)
        )]));
    }

    #[test]
    fn quotas_are_written_in_exact_binary_units() {
        assert_eq!(quantity(50 * 1024 * 1024 * 1024), "50Gi");
        assert_eq!(quantity(1536 * 1024), "1536Ki");
        assert_eq!(quantity(1000), "1000");
        assert_eq!(quantity(1024 * 1024 * 1024 * 1024 * 1024 * 1024 * 3), "3Ei");
        for bytes in [1, 1000, 1 << 30, 5_000_000_000, 1536 * 1024] {
            assert_eq!(
                crate::crd::quota::quantity_bytes(&quantity(bytes)),
                Ok(bytes)
            );
        }
    }
}
