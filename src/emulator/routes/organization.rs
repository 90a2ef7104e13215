//! Organizations: `/api/v1/organization/` and `/api/v1/organization/{orgname}[/members]`.

use serde_json::{Map, Value, json};

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{Namespace, State, Team};
use super::super::views::{
    embedded_quota_view, entity_avatar, namespace_quota_report, team_avatar,
};
use super::validate_namespace_name;

/// Whether an e-mail address looks valid (what Quay's check rejects: no `@`, no domain dot).
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

/// A team as shown in the organization view.
pub fn team_view(state: &State, org: &str, team: &Team, can_view: bool) -> Value {
    let repo_count = state
        .repos
        .values()
        .filter(|r| r.namespace == org && r.team_perms.contains_key(&team.name))
        .count();
    json!({
        "name": team.name,
        "description": team.description,
        "role": team.role.as_str(),
        "avatar": team_avatar(&team.name),
        "can_view": can_view,
        "repo_count": repo_count,
        "member_count": team.members.len(),
        "is_synced": false,
    })
}

fn org_view(ctx: &Ctx, state: &State, ns: &Namespace) -> Value {
    org_view_with_teams(ctx, state, ns, true)
}

/// The organization view; without `with_teams` its teams show empty (as
/// in an OAuth application's public view).
pub fn org_view_with_teams(ctx: &Ctx, state: &State, ns: &Namespace, with_teams: bool) -> Value {
    let is_admin = ctx.caller.is_org_admin(state, &ns.name);
    let is_member = ctx.caller.is_org_member(state, &ns.name);
    let mut view = Map::new();
    view.insert("name".into(), json!(ns.name));
    view.insert(
        "email".into(),
        if is_admin { json!(ns.email) } else { json!("") },
    );
    view.insert("avatar".into(), entity_avatar(state, &ns.name, "user"));
    view.insert("is_admin".into(), json!(is_admin));
    view.insert("is_member".into(), json!(is_member));
    if is_member && let Some(org) = ns.org() {
        let user = ctx.caller.username().unwrap_or_default();
        let mut teams = Map::new();
        for team in org.teams.iter().filter(|_| with_teams) {
            let can_view = is_admin || team.members.iter().any(|m| m == user);
            teams.insert(
                team.name.clone(),
                team_view(state, &ns.name, team, can_view),
            );
        }
        view.insert("teams".into(), Value::Object(teams));
        view.insert(
            "ordered_teams".into(),
            json!(
                org.teams
                    .iter()
                    .filter(|_| with_teams)
                    .map(|t| t.name.clone())
                    .collect::<Vec<_>>()
            ),
        );
        view.insert(
            "quotas".into(),
            json!(ns.quota.iter().map(embedded_quota_view).collect::<Vec<_>>()),
        );
        view.insert(
            "quota_report".into(),
            namespace_quota_report(ns.quota.as_ref()),
        );
    }
    if is_admin {
        view.insert("invoice_email".into(), json!(ns.invoice_email));
        view.insert(
            "invoice_email_address".into(),
            json!(ns.invoice_email_address),
        );
        view.insert("tag_expiration_s".into(), json!(ns.tag_expiration_s));
        view.insert("is_free_account".into(), json!(true));
    }
    Value::Object(view)
}

/// `POST /api/v1/organization/`.
pub fn create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let user = ctx.user()?.to_string();
    let schema = json!({
        "type": "object",
        "description": "Description of a new organization.",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "description": "Organization username"},
            "email": {"type": "string", "description": "Organization contact email"},
            "contact_email": {"type": "string", "description": "Optional contact email for organization recovery and notifications"},
            "recaptcha_response": {"type": "string", "description": "The (may be disabled) recaptcha response code for verification"},
        },
    });
    let body = ctx.json(&schema)?;
    let name = body.str_field("name").unwrap_or_default().to_string();
    if state.namespace(&name).is_some() {
        return Err(ApiError::invalid(
            "A user or organization with this name already exists",
        ));
    }
    if let Err(message) = validate_namespace_name(&name) {
        return Err(ApiError::invalid(format!(
            "Invalid namespace {name}: {message}"
        )));
    }
    let email = body
        .str_field("email")
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
        return Err(ApiError::invalid("Invalid email address"));
    }
    state.create_org(&name, email, &user);
    let metadata = json!({"email": body.get("email"), "namespace": name});
    log_action(ctx, state, "org_create", &name, None, metadata);
    Ok(Reply::created(json!("Created")))
}

/// `GET /api/v1/organization/{orgname}`.
pub fn get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = state
        .namespace(ctx.param("orgname"))
        .filter(|n| n.is_org())
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(org_view(ctx, state, ns)))
}

/// `PUT /api/v1/organization/{orgname}`.
pub fn update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let orgname = ctx.param("orgname").to_string();
    if !ctx.caller.is_org_admin(state, &orgname) {
        return Err(ctx.deny());
    }
    let schema = json!({
        "type": "object",
        "description": "Description of updates for an existing organization",
        "properties": {
            "email": {"type": "string", "description": "Organization contact email"},
            "invoice_email": {"type": "boolean", "description": "Whether the organization desires to receive emails for invoices"},
            "invoice_email_address": {"type": ["string", "null"], "description": "The email address at which to receive invoices"},
            "tag_expiration_s": {"type": "integer", "minimum": 0, "description": "The number of seconds for tag expiration"},
        },
    });
    let body = ctx.json(&schema)?;
    if body.str_field("email").is_some_and(|e| !is_valid_email(e)) {
        return Err(ApiError::invalid("Invalid email address"));
    }
    let ns = state
        .namespace_mut(&orgname)
        .filter(|n| n.is_org())
        .ok_or_else(ApiError::not_found)?;
    // What Quay logs, in its order: every invoice_email given, a changed
    // invoice address, a changed e-mail, every tag expiration given.
    let mut changes = Vec::new();
    if let Some(flag) = body.bool_field("invoice_email") {
        ns.invoice_email = flag;
        changes.push((
            "org_change_invoicing",
            json!({"invoice_email": flag, "namespace": orgname}),
        ));
    }
    if body.has("invoice_email_address") {
        let address = body.str_field("invoice_email_address").map(str::to_string);
        if address != ns.invoice_email_address {
            changes.push((
                "org_change_invoicing",
                json!({"invoice_email_address": address, "namespace": orgname}),
            ));
        }
        ns.invoice_email_address = address;
    }
    if let Some(email) = body.str_field("email") {
        if ns.email.as_deref() != Some(email) {
            changes.push((
                "org_change_email",
                json!({"email": email, "namespace": orgname, "old_email": ns.email}),
            ));
        }
        ns.email = Some(email.to_string());
    }
    if let Some(seconds) = body.i64_field("tag_expiration_s") {
        ns.tag_expiration_s = seconds;
        changes.push((
            "org_change_tag_expiration",
            json!({"tag_expiration": seconds, "namespace": orgname}),
        ));
    }
    for (kind, metadata) in changes {
        log_action(ctx, state, kind, &orgname, None, metadata);
    }
    let ns = state.namespace(&orgname).ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(org_view(ctx, state, ns)))
}

/// `DELETE /api/v1/organization/{orgname}`.
pub fn delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let orgname = ctx.param("orgname").to_string();
    if !ctx.caller.is_org_admin(state, &orgname) {
        return Err(ctx.deny());
    }
    if state.org(&orgname).is_none() {
        return Err(ApiError::not_found());
    }
    state.delete_namespace(&orgname);
    Ok(Reply::no_content())
}

/// `GET /api/v1/organization/{orgname}/members`.
pub fn members(ctx: &Ctx, state: &mut State) -> ApiResult {
    let orgname = ctx.param("orgname");
    if !ctx.caller.is_org_admin(state, orgname) {
        return Err(ctx.deny());
    }
    let org = state.org(orgname).ok_or_else(ApiError::not_found)?;
    let mut names: Vec<&str> = Vec::new();
    for team in &org.teams {
        for member in &team.members {
            if !member.contains('+') && !names.contains(&member.as_str()) {
                names.push(member);
            }
        }
    }
    let members: Vec<Value> = names
        .iter()
        .map(|name| {
            let teams: Vec<Value> = org
                .teams
                .iter()
                .filter(|t| t.members.iter().any(|m| m == name))
                .map(|t| json!({"name": t.name, "avatar": team_avatar(&t.name)}))
                .collect();
            let repositories: Vec<Value> = state
                .repos_in(orgname)
                .iter()
                .filter(|r| r.user_perms.contains_key(*name))
                .map(|r| json!(r.name))
                .collect();
            json!({
                "name": name,
                "kind": "user",
                "avatar": entity_avatar(state, name, "user"),
                "teams": teams,
                "repositories": repositories,
            })
        })
        .collect();
    Ok(Reply::ok(json!({ "members": members })))
}
