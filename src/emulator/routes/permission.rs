//! Repository permissions of users, robots and teams:
//! `/api/v1/repository/{repository}/permissions/{user,team}/...`.

use serde_json::{Map, Value, json};

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{RepoRole, State};
use super::super::views::{team_avatar, user_permission_view};

fn role_schema(who: &str) -> Value {
    json!({
        "type": "object",
        "description": format!("Description of a {who} permission."),
        "required": ["role"],
        "properties": {
            "role": {"type": "string", "description": format!("Role to use for the {who}"), "enum": ["read", "write", "admin"]},
        },
    })
}

/// Checks admin permission and existence; returns (namespace, name).
fn admin_repo(ctx: &Ctx, state: &State) -> Result<(String, String), ApiError> {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_admin_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    if state.repo(&ns, &name).is_none() {
        return Err(ApiError::not_found());
    }
    Ok((ns, name))
}

/// Like [`admin_repo`], but a full-access superuser gets past a missing
/// repository (Quay's permission check passes and the handler runs on);
/// the flag tells whether the repository exists.
fn admin_repo_or_missing(ctx: &Ctx, state: &State) -> Result<(String, String, bool), ApiError> {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_admin_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    let exists = state.repo(&ns, &name).is_some();
    if !exists && !ctx.caller.full_access() {
        return Err(ApiError::not_found());
    }
    Ok((ns, name, exists))
}

fn team_view(team: &str, role: RepoRole) -> Value {
    json!({ "name": team, "role": role.as_str(), "avatar": team_avatar(team) })
}

/// `GET .../permissions/user/` (`{}` for a full-access superuser on a missing repository).
pub fn list_users(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name, _) = admin_repo_or_missing(ctx, state)?;
    let Some(repo) = state.repo(&ns, &name) else {
        return Ok(Reply::ok(json!({ "permissions": {} })));
    };
    let permissions: Map<String, Value> = repo
        .user_perms
        .iter()
        .map(|(user, role)| {
            (
                user.clone(),
                user_permission_view(state, &ns, user, role.as_str()),
            )
        })
        .collect();
    Ok(Reply::ok(json!({ "permissions": permissions })))
}

/// `GET .../permissions/team/` (`{}` for a full-access superuser on a missing repository).
pub fn list_teams(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name, _) = admin_repo_or_missing(ctx, state)?;
    let Some(repo) = state.repo(&ns, &name) else {
        return Ok(Reply::ok(json!({ "permissions": {} })));
    };
    let permissions: Map<String, Value> = repo
        .team_perms
        .iter()
        .map(|(team, role)| (team.clone(), team_view(team, *role)))
        .collect();
    Ok(Reply::ok(json!({ "permissions": permissions })))
}

/// `GET .../permissions/user/{username}`: 400 `{"message"}` without a permission.
pub fn get_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let user = ctx.param("username");
    let role = state
        .repo(&ns, &name)
        .and_then(|r| r.user_perms.get(user))
        .ok_or_else(|| ApiError::message("User does not have permission for repo."))?;
    Ok(Reply::ok(user_permission_view(
        state,
        &ns,
        user,
        role.as_str(),
    )))
}

/// `GET .../permissions/user/{username}/transitive`: direct and team roles.
pub fn transitive(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let user = ctx.param("username");
    if !state.user_or_robot_exists(user) {
        return Err(ApiError::not_found());
    }
    let repo = state.repo(&ns, &name).ok_or_else(ApiError::not_found)?;
    let mut roles: Vec<Value> = Vec::new();
    if let Some(role) = repo.user_perms.get(user) {
        roles.push(json!({ "role": role.as_str() }));
    }
    if let Some(org) = state.org(&ns) {
        for team in org
            .teams
            .iter()
            .filter(|t| t.members.iter().any(|m| m == user))
        {
            if let Some(role) = repo.team_perms.get(&team.name) {
                roles.push(json!({ "role": role.as_str() }));
            }
        }
    }
    Ok(Reply::ok(json!({ "permissions": roles })))
}

/// `PUT .../permissions/user/{username}`: create or change (users and robots of the namespace).
/// A full-access superuser on a missing repository gets the 500 page once the
/// body and the user have been checked (Quay's repository lookup raises).
pub fn put_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name, exists) = admin_repo_or_missing(ctx, state)?;
    let body = ctx.json(&role_schema("user"))?;
    let user = ctx.param("username").to_string();
    let valid = match user.split_once('+') {
        Some((robot_ns, _)) => robot_ns == ns && state.robot(&user).is_some(),
        None => state.user(&user).is_some(),
    };
    if !valid {
        return Err(ApiError::invalid(format!("Invalid username: {user}")));
    }
    if !exists {
        return Err(ApiError::server_error());
    }
    let role = body
        .str_field("role")
        .and_then(RepoRole::parse)
        .unwrap_or(RepoRole::Read);
    if let Some(repo) = state.repo_mut(&ns, &name) {
        repo.user_perms.insert(user.clone(), role);
    }
    let metadata = json!({"username": user, "repo": name, "namespace": ns, "role": role.as_str()});
    log_action(
        ctx,
        state,
        "change_repo_permission",
        &ns,
        Some(&name),
        metadata,
    );
    Ok(Reply::ok(user_permission_view(
        state,
        &ns,
        &user,
        role.as_str(),
    )))
}

/// `DELETE .../permissions/user/{username}`.
pub fn delete_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let user = ctx.param("username");
    let removed = state
        .repo_mut(&ns, &name)
        .and_then(|r| r.user_perms.remove(user));
    if removed.is_none() {
        return Err(ApiError::invalid("User does not have permission for repo."));
    }
    let metadata = json!({"username": user, "repo": name, "namespace": ns});
    log_action(
        ctx,
        state,
        "delete_repo_permission",
        &ns,
        Some(&name),
        metadata,
    );
    Ok(Reply::no_content())
}

/// `GET .../permissions/team/{teamname}`: only `{"role"}`.
pub fn get_team(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let team = ctx.param("teamname");
    let role = state
        .repo(&ns, &name)
        .and_then(|r| r.team_perms.get(team))
        .ok_or_else(|| ApiError::message("Team does not have permission for repo."))?;
    Ok(Reply::ok(json!({ "role": role.as_str() })))
}

/// `PUT .../permissions/team/{teamname}` (like `put_user` for a missing repository).
pub fn put_team(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name, repo_exists) = admin_repo_or_missing(ctx, state)?;
    let body = ctx.json(&role_schema("team"))?;
    let team = ctx.param("teamname").to_string();
    let team_exists = state
        .org(&ns)
        .is_some_and(|o| o.teams.iter().any(|t| t.name == team));
    if !team_exists {
        return Err(ApiError::invalid(format!(
            "No team {team} in organization {ns}"
        )));
    }
    if !repo_exists {
        return Err(ApiError::server_error());
    }
    let role = body
        .str_field("role")
        .and_then(RepoRole::parse)
        .unwrap_or(RepoRole::Read);
    if let Some(repo) = state.repo_mut(&ns, &name) {
        repo.team_perms.insert(team.clone(), role);
    }
    let metadata = json!({"team": team, "repo": name, "role": role.as_str()});
    log_action(
        ctx,
        state,
        "change_repo_permission",
        &ns,
        Some(&name),
        metadata,
    );
    Ok(Reply::ok(team_view(&team, role)))
}

/// `DELETE .../permissions/team/{teamname}`.
pub fn delete_team(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let team = ctx.param("teamname");
    let removed = state
        .repo_mut(&ns, &name)
        .and_then(|r| r.team_perms.remove(team));
    if removed.is_none() {
        return Err(ApiError::invalid("Team does not have permission for repo."));
    }
    let metadata = json!({"team": team, "repo": name});
    log_action(
        ctx,
        state,
        "delete_repo_permission",
        &ns,
        Some(&name),
        metadata,
    );
    Ok(Reply::no_content())
}
