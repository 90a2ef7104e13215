//! Default permissions (prototypes): `/api/v1/organization/{orgname}/prototypes[/{prototypeid}]`.

use serde_json::{Value, json};

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{Delegate, Prototype, RepoRole, State};
use super::super::views::{prototype_user_view, team_avatar};
use super::new_uuid;

fn require_admin(ctx: &Ctx, state: &State) -> Result<String, ApiError> {
    let org = ctx.param("orgname");
    if !ctx.caller.is_org_admin(state, org) {
        return Err(ctx.deny());
    }
    if state.org(org).is_none() {
        return Err(ApiError::not_found());
    }
    Ok(org.to_string())
}

fn view(state: &State, org: &str, proto: &Prototype) -> Value {
    let delegate = match &proto.delegate {
        Delegate::User(name) => prototype_user_view(state, org, name),
        Delegate::Team(name) => json!({"name": name, "kind": "team", "avatar": team_avatar(name)}),
    };
    json!({
        "id": proto.id,
        "role": proto.role.as_str(),
        "delegate": delegate,
        "activating_user": proto.activating_user.as_deref().map(|u| prototype_user_view(state, org, u)),
    })
}

/// Quay's `log_prototype_action`: the prototype as the caller left it, plus
/// `extra` keys (the original role of a modification).
fn log_prototype(
    ctx: &Ctx,
    state: &mut State,
    kind: &'static str,
    org: &str,
    proto: &Prototype,
    extra: Option<(&str, &str)>,
) {
    let mut metadata = json!({
        "prototypeid": proto.id,
        "username": ctx.caller.username(),
        "activating_username": proto.activating_user,
        "role": proto.role.as_str(),
    });
    if let Some(map) = metadata.as_object_mut() {
        if let Some((key, value)) = extra {
            map.insert(key.to_string(), json!(value));
        }
        let (key, name) = match &proto.delegate {
            Delegate::User(name) => ("delegate_user", name),
            Delegate::Team(name) => ("delegate_team", name),
        };
        map.insert(key.to_string(), json!(name));
    }
    log_action(ctx, state, kind, org, None, metadata);
}

/// `GET /api/v1/organization/{orgname}/prototypes`.
pub fn list(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = require_admin(ctx, state)?;
    let prototypes: Vec<Value> = state
        .org(&org)
        .map(|o| o.prototypes.iter().map(|p| view(state, &org, p)).collect())
        .unwrap_or_default();
    Ok(Reply::ok(json!({ "prototypes": prototypes })))
}

/// `POST /api/v1/organization/{orgname}/prototypes`: 200, duplicates allowed.
pub fn create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = require_admin(ctx, state)?;
    let schema = json!({
        "type": "object",
        "description": "Description of a new prototype",
        "required": ["role", "delegate"],
        "properties": {
            "role": {"type": "string", "description": "Role that should be applied to the delegate", "enum": ["read", "write", "admin"]},
            "activating_user": {
                "type": "object",
                "description": "Repository creating user to whom the rule should apply",
                "required": ["name"],
                "properties": {"name": {"type": "string", "description": "The username for the activating_user"}},
            },
            "delegate": {
                "type": "object",
                "description": "Information about the user or team to which the rule grants access",
                "required": ["name", "kind"],
                "properties": {
                    "name": {"type": "string", "description": "The name for the delegate team or user"},
                    "kind": {"type": "string", "description": "Whether the delegate is a user or a team", "enum": ["user", "team"]},
                },
            },
        },
    });
    let body = ctx.json(&schema)?;
    let delegate_name = body
        .get("delegate")
        .and_then(|d| d.str_field("name"))
        .unwrap_or_default()
        .to_string();
    let delegate = if body.get("delegate").and_then(|d| d.str_field("kind")) == Some("team") {
        let exists = state
            .org(&org)
            .is_some_and(|o| o.teams.iter().any(|t| t.name == delegate_name));
        if !exists {
            return Err(ApiError::message(format!(
                "('Team does not exist: %s/%s', '{org}', '{delegate_name}')"
            )));
        }
        Delegate::Team(delegate_name)
    } else {
        if !state.user_or_robot_exists(&delegate_name) {
            return Err(ApiError::message(format!(
                "('User does not exist: %s', '{delegate_name}')"
            )));
        }
        Delegate::User(delegate_name)
    };
    let activating_user = match body
        .get("activating_user")
        .and_then(|a| a.str_field("name"))
    {
        None => None,
        Some(name) if state.user(name).is_some() => Some(name.to_string()),
        Some(name) => {
            return Err(ApiError::message(format!(
                "('User does not exist: %s', '{name}')"
            )));
        }
    };
    let proto = Prototype {
        id: new_uuid(),
        role: body
            .str_field("role")
            .and_then(RepoRole::parse)
            .unwrap_or(RepoRole::Read),
        delegate,
        activating_user,
    };
    let answer = view(state, &org, &proto);
    log_prototype(
        ctx,
        state,
        "create_prototype_permission",
        &org,
        &proto,
        None,
    );
    if let Some(o) = state.namespace_mut(&org).and_then(|n| n.org_mut()) {
        o.prototypes.push(proto);
    }
    Ok(Reply::ok(answer))
}

/// `PUT /api/v1/organization/{orgname}/prototypes/{prototypeid}`: the role.
pub fn update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = require_admin(ctx, state)?;
    let schema = json!({
        "type": "object",
        "description": "Description of a the new prototype role",
        "required": ["role"],
        "properties": {
            "role": {"type": "string", "description": "Role that should be applied to the permission", "enum": ["read", "write", "admin"]},
        },
    });
    let body = ctx.json(&schema)?;
    let id = ctx.param("prototypeid");
    let role = body
        .str_field("role")
        .and_then(RepoRole::parse)
        .unwrap_or(RepoRole::Read);
    let proto = state
        .namespace_mut(&org)
        .and_then(|n| n.org_mut())
        .and_then(|o| o.prototypes.iter_mut().find(|p| p.id == id))
        .ok_or_else(ApiError::not_found)?;
    let original = proto.role;
    proto.role = role;
    let proto = proto.clone();
    log_prototype(
        ctx,
        state,
        "modify_prototype_permission",
        &org,
        &proto,
        Some(("original_role", original.as_str())),
    );
    Ok(Reply::ok(view(state, &org, &proto)))
}

/// `DELETE /api/v1/organization/{orgname}/prototypes/{prototypeid}`: 204, then 404.
pub fn delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = require_admin(ctx, state)?;
    let id = ctx.param("prototypeid");
    let o = state
        .namespace_mut(&org)
        .and_then(|n| n.org_mut())
        .ok_or_else(ApiError::not_found)?;
    let Some(index) = o.prototypes.iter().position(|p| p.id == id) else {
        return Err(ApiError::not_found());
    };
    let proto = o.prototypes.remove(index);
    log_prototype(
        ctx,
        state,
        "delete_prototype_permission",
        &org,
        &proto,
        None,
    );
    Ok(Reply::no_content())
}
