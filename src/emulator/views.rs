//! JSON renderings shared by several API areas (avatars, entity views, quotas).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::auth::is_org_member_name;
use super::quota_units::format_bytes;
use super::state::{Quota, QuotaLimit, Robot, State};

/// Quay's avatar palette.
const COLORS: [&str; 32] = [
    "#969696", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
    "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
    "#bcbd22", "#1f77b4", "#17becf", "#9edae5", "#393b79", "#5254a3", "#6b6ecf", "#9c9ede",
    "#9ecae1", "#31a354", "#b5cf6b", "#a1d99b", "#8c6d31", "#ad494a", "#e7ba52", "#a55194",
];

/// `{"name","hash","color","kind"}` where hash = sha256(email or id) like Quay.
pub fn avatar(name: &str, seed: &str, kind: &str) -> Value {
    let hash = format!(
        "{:x}",
        Sha256::digest(seed.trim().to_lowercase().as_bytes())
    );
    let index = usize::from_str_radix(&hash[..2], 16).unwrap_or(0) % COLORS.len();
    json!({ "name": name, "hash": hash, "color": COLORS[index], "kind": kind })
}

/// Avatar of a user, robot or organization by name (`kind` as Quay labels it there).
pub fn entity_avatar(state: &State, name: &str, kind: &str) -> Value {
    if let Some((_, robot)) = state.robot(name) {
        return avatar(name, &robot.avatar_seed, "robot");
    }
    let seed = state
        .namespace(name)
        .and_then(|n| n.email.clone())
        .unwrap_or_else(|| name.to_string());
    avatar(name, &seed, kind)
}

/// Avatar of a team.
pub fn team_avatar(team: &str) -> Value {
    avatar(team, team, "team")
}

/// Dates like `Sun, 22 Nov 2026 07:25:32 -0000` (robots' `created`).
pub fn rfc2822(date: &DateTime<Utc>) -> String {
    date.format("%a, %d %b %Y %H:%M:%S -0000").to_string()
}

/// A user or robot as listed in repository permissions.
pub fn user_permission_view(state: &State, repo_namespace: &str, name: &str, role: &str) -> Value {
    let is_org_member = state
        .namespace(repo_namespace)
        .is_some_and(|ns| ns.is_org() && is_org_member_name(ns, name));
    json!({
        "name": name,
        "role": role,
        "is_robot": name.contains('+'),
        "avatar": entity_avatar(state, name, "user"),
        "is_org_member": is_org_member,
    })
}

/// A user or robot as shown in prototypes (`kind` is "user" for robots too).
pub fn prototype_user_view(state: &State, org: &str, name: &str) -> Value {
    let is_org_member = state
        .namespace(org)
        .is_some_and(|ns| is_org_member_name(ns, name));
    json!({
        "name": name,
        "kind": "user",
        "is_robot": name.contains('+'),
        "is_org_member": is_org_member,
        "avatar": entity_avatar(state, name, "user"),
    })
}

/// A team member as listed by the team members endpoint.
pub fn team_member_view(state: &State, name: &str) -> Value {
    json!({
        "name": name,
        "kind": "user",
        "is_robot": name.contains('+'),
        "avatar": entity_avatar(state, name, "user"),
        "invited": false,
    })
}

/// Robot view. `token` is included when given; `metadata` is the
/// `unstructured_metadata` value to show (absent from lists).
pub fn robot_view(namespace: &str, robot: &Robot, token: bool, metadata: Option<Value>) -> Value {
    let mut view = json!({
        "name": format!("{}+{}", namespace, robot.short_name),
        "created": rfc2822(&robot.created),
        "last_accessed": null,
        "description": robot.description,
    });
    if let Some(map) = view.as_object_mut() {
        if token {
            map.insert("token".to_string(), Value::String(robot.token.clone()));
        }
        if let Some(metadata) = metadata {
            map.insert("unstructured_metadata".to_string(), metadata);
        }
    }
    view
}

fn limit_view(limit: &QuotaLimit) -> Value {
    json!({ "id": limit.id, "type": limit.kind, "limit_percent": limit.percent })
}

/// The list of limits of a quota.
pub fn limits_view(quota: &Quota) -> Value {
    Value::Array(quota.limits.iter().map(limit_view).collect())
}

/// One limit.
pub fn single_limit_view(limit: &QuotaLimit) -> Value {
    limit_view(limit)
}

/// A quota as the quota endpoints show it. `float_bytes` renders `limit_bytes`
/// as a float, as Quay does in the answer to a PUT with a human `limit`.
pub fn quota_view(quota: &Quota, float_bytes: bool) -> Value {
    let bytes = if float_bytes {
        json!(quota.limit_bytes as f64)
    } else {
        json!(quota.limit_bytes)
    };
    json!({
        "id": quota.id,
        "limit_bytes": bytes,
        "limit": format_bytes(quota.limit_bytes),
        "default_config": false,
        "limits": limits_view(quota),
        "default_config_exists": false,
    })
}

/// A quota as embedded in the organization view.
pub fn embedded_quota_view(quota: &Quota) -> Value {
    json!({ "id": quota.id, "limit_bytes": quota.limit_bytes, "limits": limits_view(quota) })
}

/// `quota_report` of the user and organization views.
pub fn namespace_quota_report(quota: Option<&Quota>) -> Value {
    json!({
        "quota_bytes": 0,
        "configured_quota": quota.map(|q| q.limit_bytes),
        "running_backfill": "waiting",
        "backfill_status": "waiting",
    })
}
