//! `/api/v1/user/initialize`, `/api/v1/user/` and `/api/v1/superuser/users/`.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::super::audit::log_action;
use super::super::auth::{ScopeSet, team_role_of};
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{INITIALIZE_TOKEN_LIFETIME_S, State, TeamRole};
use super::super::views::{avatar, embedded_quota_view, entity_avatar, namespace_quota_report};
use super::{random_password, random_token, validate_namespace_name};

/// A stand-in for the bcrypt hash Quay returns.
fn encrypted_password(password: &str) -> String {
    let digest: String = password.bytes().map(|b| format!("{:02x}", b)).collect();
    format!("$2b$12${}", &digest[..digest.len().min(53)])
}

/// `POST /api/v1/user/initialize`: the first superuser, only while no user exists.
pub fn initialize(ctx: &Ctx, state: &mut State) -> ApiResult {
    let schema = json!({
        "type": "object",
        "required": ["username", "password", "email"],
        "properties": {
            "username": {"type": "string"},
            "password": {"type": "string"},
            "email": {"type": "string"},
            "access_token": {"type": "boolean"},
        },
    });
    let body = ctx.json(&schema)?;
    if state.has_users() {
        return Err(ApiError::message(
            "Cannot initialize user in a non-empty database",
        ));
    }
    let username = body.str_field("username").unwrap_or_default().to_string();
    let password = body.str_field("password").unwrap_or_default().to_string();
    let email = body.str_field("email").unwrap_or_default().to_string();
    if let Err(message) = validate_namespace_name(&username) {
        return Err(ApiError::message(format!(
            "Invalid username {username}: {message}"
        )));
    }
    state.create_user(&username, Some(email.clone()), true);
    let mut view = json!({
        "username": username,
        "email": email,
        "encrypted_password": encrypted_password(&password),
    });
    if body.bool_field("access_token").unwrap_or(false) {
        let token = random_token();
        let expires = Utc::now() + Duration::seconds(INITIALIZE_TOKEN_LIFETIME_S);
        state.add_token(token.clone(), &username, ScopeSet::all(), Some(expires));
        if let Some(map) = view.as_object_mut() {
            map.insert("access_token".to_string(), Value::String(token));
        }
    }
    Ok(Reply::ok(view))
}

/// `GET /api/v1/user/`: the signed-in user.
pub fn get_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let Some(username) = ctx.caller.username() else {
        return Err(ApiError::login_required());
    };
    let Some(user) = state.user(username) else {
        return Err(ApiError::login_required());
    };
    let organizations: Vec<Value> = state
        .namespaces
        .values()
        .filter(|ns| ns.is_org())
        .filter_map(|org| {
            let role = team_role_of(state, &org.name, username)?;
            let seed = org.email.clone().unwrap_or_else(|| org.name.clone());
            Some(json!({
                "name": org.name,
                "avatar": avatar(&org.name, &seed, "org"),
                "can_create_repo": role >= TeamRole::Creator,
                "public": false,
                "is_org_admin": role == TeamRole::Admin,
                "preferred_namespace": false,
            }))
        })
        .collect();
    let mut view = json!({
        "anonymous": false,
        "username": user.name,
        "avatar": entity_avatar(state, &user.name, "user"),
        "can_create_repo": true,
        "is_me": true,
        "verified": true,
        "email": user.email,
        "logins": [],
        "invoice_email": user.invoice_email,
        "invoice_email_address": user.invoice_email_address,
        "preferred_namespace": false,
        "tag_expiration_s": user.tag_expiration_s,
        "prompts": [],
        "company": null,
        "family_name": null,
        "given_name": null,
        "location": null,
        "is_free_account": true,
        "has_password_set": true,
        "quotas": user.quota.iter().map(embedded_quota_view).collect::<Vec<_>>(),
        "quota_report": namespace_quota_report(user.quota.as_ref()),
        "organizations": organizations,
    });
    if user.user().is_some_and(|u| u.superuser)
        && let Some(map) = view.as_object_mut()
    {
        map.insert("super_user".to_string(), Value::Bool(true));
    }
    Ok(Reply::ok(view))
}

fn install_user_view(state: &State, name: &str) -> Value {
    let ns = state.user(name);
    json!({
        "kind": "user",
        "name": name,
        "username": name,
        "email": ns.and_then(|n| n.email.clone()),
        "verified": true,
        "avatar": entity_avatar(state, name, "user"),
        "super_user": ns.and_then(|n| n.user()).is_some_and(|u| u.superuser),
        "enabled": true,
    })
}

/// `GET /api/v1/superuser/users/`.
pub fn list_users(ctx: &Ctx, state: &mut State) -> ApiResult {
    if !ctx.caller.superuser {
        return Err(ctx.deny());
    }
    let users: Vec<Value> = state
        .namespaces
        .values()
        .filter(|n| !n.is_org())
        .map(|n| install_user_view(state, &n.name))
        .collect();
    Ok(Reply::ok(json!({ "users": users })))
}

/// `GET /api/v1/superuser/organizations/`: every organization.
pub fn list_organizations(ctx: &Ctx, state: &mut State) -> ApiResult {
    if !ctx.caller.superuser {
        return Err(ctx.deny());
    }
    let organizations: Vec<Value> = state
        .namespaces
        .values()
        .filter(|n| n.is_org())
        .map(|org| {
            let seed = org.email.clone().unwrap_or_else(|| org.name.clone());
            json!({
                "name": org.name,
                "email": org.email,
                "avatar": avatar(&org.name, &seed, "org"),
            })
        })
        .collect();
    Ok(Reply::ok(json!({ "organizations": organizations })))
}

/// `POST /api/v1/superuser/users/`: creates a user with a generated password.
pub fn create_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    if !ctx.caller.superuser {
        return Err(ctx.deny());
    }
    let schema = json!({
        "description": "Data for creating a user",
        "required": ["username"],
        "properties": {
            "username": {"type": "string", "description": "The username of the user being created"},
            "email": {"type": "string", "description": "The email address of the user being created"},
        },
    });
    let body = ctx.json(&schema)?;
    let username = body.str_field("username").unwrap_or_default().to_string();
    if let Err(message) = validate_namespace_name(&username) {
        return Err(ApiError::invalid(format!(
            "Invalid namespace {username}: {message}"
        )));
    }
    if state.namespace(&username).is_some() {
        return Err(ApiError::invalid(
            "Username has already been taken by an organization or user",
        ));
    }
    let email = body.str_field("email").map(str::to_string);
    let password = random_password();
    state.create_user(&username, email.clone(), false);
    let metadata = json!({
        "email": email,
        "username": username,
        "superuser": ctx.caller.username(),
    });
    log_action(ctx, state, "user_create", &username, None, metadata);
    Ok(Reply::ok(json!({
        "username": username,
        "email": email,
        "password": password,
        "encrypted_password": encrypted_password(&password),
    })))
}

/// `DELETE /api/v1/superuser/users/{username}`: deletes a user (not a
/// superuser) with its namespace; 404 for a name that is no user.
pub fn delete_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    if !ctx.caller.superuser {
        return Err(ctx.deny());
    }
    let username = ctx.param("username").to_string();
    let user = state
        .user(&username)
        .and_then(|n| n.user())
        .ok_or_else(ApiError::not_found)?;
    if user.superuser {
        return Err(ApiError::invalid("Cannot delete a superuser"));
    }
    state.delete_namespace(&username);
    state.tokens.retain(|_, t| t.username != username);
    Ok(Reply::no_content())
}
