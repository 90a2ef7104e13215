//! Teams: `/api/v1/organization/{orgname}/team/{teamname}[/members[/{membername}]|/permissions]`
//! and, with FEATURE_MAILING, `.../invite/{email}`.

use serde_json::{Value, json};

use super::super::audit::log_action;
use super::super::auth::is_org_member_name;
use super::super::errors::{ApiError, ApiResult, Html, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{Delegate, Invite, State, Team, TeamRole};
use super::super::views::{avatar, team_avatar, team_member_view};
use super::robot::org_does_not_exist;
use super::validate_namespace_name;

fn require_admin(ctx: &Ctx, state: &State) -> Result<(String, String), ApiError> {
    let orgname = ctx.param("orgname");
    if !ctx.caller.is_org_admin(state, orgname) {
        return Err(ctx.deny());
    }
    if state.org(orgname).is_none() {
        return Err(ApiError::not_found());
    }
    Ok((orgname.to_string(), ctx.param("teamname").to_string()))
}

fn find_team<'a>(state: &'a State, org: &str, team: &str) -> Option<&'a Team> {
    state.org(org)?.teams.iter().find(|t| t.name == team)
}

fn find_team_mut<'a>(state: &'a mut State, org: &str, team: &str) -> Option<&'a mut Team> {
    state
        .namespace_mut(org)?
        .org_mut()?
        .teams
        .iter_mut()
        .find(|t| t.name == team)
}

/// Whether `user` keeps an admin team in `org` once `team` is left out.
fn keeps_admin_without(state: &State, org: &str, team: &str, user: &str) -> bool {
    state.org(org).is_some_and(|o| {
        o.teams.iter().any(|t| {
            t.name != team && t.role == TeamRole::Admin && t.members.iter().any(|m| m == user)
        })
    })
}

fn team_schema() -> Value {
    json!({
        "type": "object",
        "description": "Description of a team",
        "required": ["role"],
        "properties": {
            "role": {"type": "string", "description": "Org wide permissions that should apply to the team", "enum": ["member", "creator", "admin"]},
            "description": {"type": "string", "description": "Markdown description for the team"},
        },
    })
}

/// `PUT /api/v1/organization/{orgname}/team/{teamname}`: create or update.
/// A full-access superuser gets 400 `Organization does not exist: X` for a
/// missing organization (after the body is checked).
pub fn put(ctx: &Ctx, state: &mut State) -> ApiResult {
    let orgname = ctx.param("orgname");
    if ctx.caller.full_access() && state.org(orgname).is_none() {
        ctx.json(&team_schema())?;
        return Err(org_does_not_exist(orgname));
    }
    let (org, name) = require_admin(ctx, state)?;
    let body = ctx.json(&team_schema())?;
    if let Err(message) = validate_namespace_name(&name) {
        return Err(ApiError::message(format!(
            "Invalid team name {name}: {message}"
        )));
    }
    let role = body
        .str_field("role")
        .and_then(TeamRole::parse)
        .unwrap_or(TeamRole::Member);
    let description = body.str_field("description").map(str::to_string);
    let new_team = find_team(state, &org, &name).is_none();
    // Quay logs one entry for a new team, and for an existing one an entry
    // per changed field (description first, then role).
    let mut changes = Vec::new();
    if new_team {
        let team = Team {
            name: name.clone(),
            description: description.unwrap_or_default(),
            role,
            members: Vec::new(),
            invites: Vec::new(),
        };
        if let Some(o) = state.namespace_mut(&org).and_then(|n| n.org_mut()) {
            o.teams.push(team);
        }
        changes.push(("org_create_team", json!({"team": name})));
    } else if let Some(team) = find_team_mut(state, &org, &name) {
        if let Some(description) = description
            && description != team.description
        {
            changes.push((
                "org_set_team_description",
                json!({"team": name, "description": description}),
            ));
            team.description = description;
        }
        if role != team.role {
            changes.push((
                "org_set_team_role",
                json!({"team": name, "role": role.as_str()}),
            ));
            team.role = role;
        }
    }
    for (kind, metadata) in changes {
        log_action(ctx, state, kind, &org, None, metadata);
    }
    let team = find_team(state, &org, &name).ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(json!({
        "name": team.name,
        "description": team.description,
        "role": team.role.as_str(),
        "avatar": team_avatar(&team.name),
        "can_view": true,
        "new_team": new_team,
    })))
}

/// `DELETE /api/v1/organization/{orgname}/team/{teamname}`.
pub fn delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (org, name) = require_admin(ctx, state)?;
    let Some(team) = find_team(state, &org, &name) else {
        return Err(ApiError::message(format!(
            "Team '{name}' is not a team in org '{org}'"
        )));
    };
    if let Some(user) = ctx.caller.username()
        && team.role == TeamRole::Admin
        && team.members.iter().any(|m| m == user)
        && !keeps_admin_without(state, &org, &name, user)
    {
        return Err(ApiError::message(format!(
            "Deleting team '{name}' would remove admin ability for user '{user}' in organization '{org}'"
        )));
    }
    if let Some(o) = state.namespace_mut(&org).and_then(|n| n.org_mut()) {
        o.teams.retain(|t| t.name != name);
        o.prototypes
            .retain(|p| p.delegate != Delegate::Team(name.clone()));
    }
    for repo in state.repos.values_mut().filter(|r| r.namespace == org) {
        repo.team_perms.remove(&name);
    }
    log_action(
        ctx,
        state,
        "org_delete_team",
        &org,
        None,
        json!({"team": name}),
    );
    Ok(Reply::no_content())
}

/// `GET /api/v1/organization/{orgname}/team/{teamname}/members`.
pub fn members(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = ctx.param("orgname");
    let name = ctx.param("teamname");
    let is_admin = ctx.caller.is_org_admin(state, org);
    let team = find_team(state, org, name);
    let is_team_member = team.is_some_and(|t| {
        ctx.caller
            .username()
            .is_some_and(|u| t.members.iter().any(|m| m == u))
    });
    if !is_admin && !is_team_member {
        return Err(ctx.deny());
    }
    let team = team.ok_or_else(ApiError::not_found)?;
    let mut members: Vec<Value> = team
        .members
        .iter()
        .map(|m| team_member_view(state, m))
        .collect();
    if ctx.query_bool("includePending", false) && is_admin {
        members.extend(team.invites.iter().map(|i| invite_view(state, i)));
    }
    Ok(Reply::ok(
        json!({ "name": team.name, "members": members, "can_edit": is_admin }),
    ))
}

/// `PUT /api/v1/organization/{orgname}/team/{teamname}/members/{membername}`.
pub fn add_member(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (org, name) = require_admin(ctx, state)?;
    let member = ctx.param("membername").to_string();
    if find_team(state, &org, &name).is_none() {
        return Err(ApiError::not_found());
    }
    if !state.user_or_robot_exists(&member) {
        return Err(ApiError::invalid("Unknown user"));
    }
    if let Some((robot_ns, _)) = member.split_once('+')
        && robot_ns != org
    {
        return Err(ApiError::invalid(
            "Cannot add the specified robot to this team, as it is not a member of the organization",
        ));
    }
    // With FEATURE_MAILING (and Quay's default REQUIRE_TEAM_INVITE) a user who
    // is in no team of the organization is invited instead.
    let invite = state.mailing
        && !member.contains('+')
        && !state
            .namespace(&org)
            .is_some_and(|ns| is_org_member_name(ns, &member));
    let team = find_team_mut(state, &org, &name).ok_or_else(ApiError::not_found)?;
    if invite {
        team.invites.push(Invite::User(member.clone()));
        let metadata = json!({"user": member, "member": member, "team": name});
        log_action(ctx, state, "org_invite_team_member", &org, None, metadata);
        let mut view = team_member_view(state, &member);
        view["invited"] = Value::Bool(true);
        return Ok(Reply::ok(view));
    }
    if team.members.contains(&member) {
        return Err(ApiError::message(format!(
            "User {member} is already a member of team {name}"
        )));
    }
    team.members.push(member.clone());
    log_action(
        ctx,
        state,
        "org_add_team_member",
        &org,
        None,
        json!({"member": member, "team": name}),
    );
    Ok(Reply::ok(team_member_view(state, &member)))
}

/// `DELETE /api/v1/organization/{orgname}/team/{teamname}/members/{membername}`.
pub fn remove_member(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (org, name) = require_admin(ctx, state)?;
    let member = ctx.param("membername").to_string();
    let team = find_team(state, &org, &name).ok_or_else(ApiError::not_found)?;
    // A pending invitation of the user is withdrawn first.
    let pending = Invite::User(member.clone());
    if team.invites.contains(&pending) {
        if let Some(team) = find_team_mut(state, &org, &name) {
            team.invites.retain(|i| i != &pending);
        }
        let metadata = json!({"user": member, "team": name, "member": member});
        log_action(
            ctx,
            state,
            "org_delete_team_member_invite",
            &org,
            None,
            metadata,
        );
        return Ok(Reply::no_content());
    }
    if !team.members.contains(&member) {
        return Err(ApiError::message(format!(
            "User {member} does not belong to team {name}"
        )));
    }
    if ctx.caller.username() == Some(member.as_str())
        && team.role == TeamRole::Admin
        && !keeps_admin_without(state, &org, &name, &member)
    {
        return Err(ApiError::message(format!(
            "User '{member}' cannot be removed from team '{name}' because they would lose admin ability"
        )));
    }
    if let Some(team) = find_team_mut(state, &org, &name) {
        team.members.retain(|m| m != &member);
    }
    log_action(
        ctx,
        state,
        "org_remove_team_member",
        &org,
        None,
        json!({"member": member, "team": name}),
    );
    Ok(Reply::no_content())
}

/// `GET /api/v1/organization/{orgname}/team/{teamname}/permissions`.
pub fn permissions(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = ctx.param("orgname");
    let name = ctx.param("teamname");
    let is_member = ctx.caller.username().is_some_and(|u| {
        find_team(state, org, name).is_some_and(|t| t.members.iter().any(|m| m == u))
    });
    if !ctx.caller.is_org_admin(state, org) && !is_member {
        return Err(ctx.deny());
    }
    find_team(state, org, name).ok_or_else(ApiError::not_found)?;
    let permissions: Vec<Value> = state
        .repos_in(org)
        .into_iter()
        .filter_map(|r| {
            r.team_perms.get(name).map(|role| {
                json!({"repository": {"name": r.name, "is_public": r.public}, "role": role.as_str()})
            })
        })
        .collect();
    Ok(Reply::ok(json!({ "permissions": permissions })))
}

/// A pending invitation as the members list shows it.
fn invite_view(state: &State, invite: &Invite) -> Value {
    match invite {
        Invite::User(user) => {
            let mut view = team_member_view(state, user);
            view["invited"] = Value::Bool(true);
            view
        }
        Invite::Email(email) => json!({
            "email": email,
            "kind": "invite",
            "avatar": avatar(email, email, "user"),
            "invited": true,
        }),
    }
}

/// Without FEATURE_MAILING Quay has no invite resource: its 405 page, for any team.
fn require_mailing(state: &State) -> Result<(), ApiError> {
    if state.mailing {
        Ok(())
    } else {
        Err(ApiError::Html(Html::MethodNotAllowed))
    }
}

/// `PUT /api/v1/organization/{orgname}/team/{teamname}/invite/{email}`: invites
/// an e-mail address (another invitation each time, as Quay does).
pub fn invite_email(ctx: &Ctx, state: &mut State) -> ApiResult {
    require_mailing(state)?;
    let (org, name) = require_admin(ctx, state)?;
    let email = ctx.param("email").to_string();
    let team = find_team_mut(state, &org, &name).ok_or_else(ApiError::not_found)?;
    let invite = Invite::Email(email.clone());
    team.invites.push(invite.clone());
    let metadata = json!({"email": email, "team": name, "member": email});
    log_action(ctx, state, "org_invite_team_member", &org, None, metadata);
    Ok(Reply::ok(invite_view(state, &invite)))
}

/// `DELETE /api/v1/organization/{orgname}/team/{teamname}/invite/{email}`:
/// withdraws one invitation of the address (404 when there is none).
pub fn delete_email_invite(ctx: &Ctx, state: &mut State) -> ApiResult {
    require_mailing(state)?;
    let (org, name) = require_admin(ctx, state)?;
    let email = ctx.param("email").to_string();
    let team = find_team_mut(state, &org, &name).ok_or_else(ApiError::not_found)?;
    let invite = Invite::Email(email.clone());
    let at = team
        .invites
        .iter()
        .position(|i| i == &invite)
        .ok_or_else(ApiError::not_found)?;
    team.invites.remove(at);
    let metadata = json!({"email": email, "team": name, "member": email});
    log_action(
        ctx,
        state,
        "org_delete_team_member_invite",
        &org,
        None,
        metadata,
    );
    Ok(Reply::no_content())
}
