//! OAuth applications of organizations (`/organization/{orgname}/applications...`)
//! and an application's public view (`/app/{client_id}`).

use serde_json::{Value, json};

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{Application, State};
use super::super::views::avatar;
use super::organization::org_view_with_teams;
use super::random_upper;

/// The organization of an application route, checking the caller administers it.
fn org_admin_namespace(ctx: &Ctx, state: &State) -> Result<String, ApiError> {
    let orgname = ctx.param("orgname");
    if !ctx.caller.is_org_admin(state, orgname) {
        return Err(ctx.deny());
    }
    if state.org(orgname).is_none() {
        return Err(ApiError::not_found());
    }
    Ok(orgname.to_string())
}

fn applications<'a>(state: &'a State, org: &str) -> &'a [Application] {
    state
        .org(org)
        .map(|o| o.applications.as_slice())
        .unwrap_or_default()
}

fn find<'a>(state: &'a State, org: &str, client_id: &str) -> Result<&'a Application, ApiError> {
    applications(state, org)
        .iter()
        .find(|a| a.client_id == client_id)
        .ok_or_else(ApiError::not_found)
}

fn find_mut<'a>(
    state: &'a mut State,
    org: &str,
    client_id: &str,
) -> Result<&'a mut Application, ApiError> {
    state
        .namespace_mut(org)
        .and_then(|n| n.org_mut())
        .and_then(|o| o.applications.iter_mut().find(|a| a.client_id == client_id))
        .ok_or_else(ApiError::not_found)
}

/// The view every call answers with (client secret included).
fn view(app: &Application) -> Value {
    json!({
        "name": app.name,
        "description": app.description,
        "application_uri": app.application_uri,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": app.redirect_uri,
        "avatar_email": app.avatar_email,
    })
}

/// The request body's properties (the same for create and update).
fn properties() -> Value {
    json!({
        "name": {"type": "string", "description": "The name of the application"},
        "redirect_uri": {"type": "string", "description": "The URI for the application's OAuth redirect"},
        "application_uri": {"type": "string", "description": "The URI for the application's homepage"},
        "description": {"type": "string", "description": "The human-readable description for the application"},
        "avatar_email": {"type": "string", "description": "The e-mail address of the avatar to use for the application"},
    })
}

/// The body's fields as given, with the application's name and client id
/// (the metadata Quay logs for a create or an update).
fn logged_fields(body: &Value, app: &Application) -> Value {
    let mut metadata = body.as_object().cloned().unwrap_or_default();
    metadata.insert("application_name".into(), json!(app.name));
    metadata.insert("client_id".into(), json!(app.client_id));
    Value::Object(metadata)
}

fn name_and_id(app: &Application) -> Value {
    json!({"application_name": app.name, "client_id": app.client_id})
}

/// `GET /api/v1/organization/{orgname}/applications`.
pub fn list(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_admin_namespace(ctx, state)?;
    let apps: Vec<Value> = applications(state, &org).iter().map(view).collect();
    Ok(Reply::ok(json!({ "applications": apps })))
}

/// `POST /api/v1/organization/{orgname}/applications`: 200 (not 201); a
/// name already in use gets another application with a new client id.
pub fn create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let body = ctx.json(&json!({
        "type": "object",
        "description": "Description of a new organization application.",
        "required": ["name"],
        "properties": properties(),
    }))?;
    let org = org_admin_namespace(ctx, state)?;
    let text = |key: &str| body.str_field(key).unwrap_or_default().to_string();
    let app = Application {
        client_id: random_upper(20),
        client_secret: random_upper(40),
        name: text("name"),
        description: text("description"),
        application_uri: text("application_uri"),
        redirect_uri: text("redirect_uri"),
        avatar_email: body.str_field("avatar_email").map(str::to_string),
    };
    let answer = view(&app);
    let metadata = logged_fields(&body, &app);
    if let Some(o) = state.namespace_mut(&org).and_then(|n| n.org_mut()) {
        o.applications.push(app);
    }
    log_action(ctx, state, "create_application", &org, None, metadata);
    Ok(Reply::ok(answer))
}

/// `GET /api/v1/organization/{orgname}/applications/{client_id}`.
pub fn get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_admin_namespace(ctx, state)?;
    Ok(Reply::ok(view(find(state, &org, ctx.param("client_id"))?)))
}

/// `PUT /api/v1/organization/{orgname}/applications/{client_id}`: replaces
/// every field (an omitted description becomes `""`, an omitted avatar
/// e-mail null).
pub fn update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let body = ctx.json(&json!({
        "type": "object",
        "description": "Description of an updated application.",
        "required": ["name", "redirect_uri", "application_uri"],
        "properties": properties(),
    }))?;
    let org = org_admin_namespace(ctx, state)?;
    let app = find_mut(state, &org, ctx.param("client_id"))?;
    let text = |key: &str| body.str_field(key).unwrap_or_default().to_string();
    app.name = text("name");
    app.description = text("description");
    app.application_uri = text("application_uri");
    app.redirect_uri = text("redirect_uri");
    app.avatar_email = body.str_field("avatar_email").map(str::to_string);
    let answer = view(app);
    let metadata = logged_fields(&body, app);
    log_action(ctx, state, "update_application", &org, None, metadata);
    Ok(Reply::ok(answer))
}

/// `DELETE /api/v1/organization/{orgname}/applications/{client_id}`.
pub fn delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_admin_namespace(ctx, state)?;
    let client_id = ctx.param("client_id");
    let metadata = name_and_id(find(state, &org, client_id)?);
    if let Some(o) = state.namespace_mut(&org).and_then(|n| n.org_mut()) {
        o.applications.retain(|a| a.client_id != client_id);
    }
    log_action(ctx, state, "delete_application", &org, None, metadata);
    Ok(Reply::no_content())
}

/// `POST /api/v1/organization/{orgname}/applications/{client_id}/resetclientsecret`.
pub fn reset_secret(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_admin_namespace(ctx, state)?;
    let app = find_mut(state, &org, ctx.param("client_id"))?;
    app.client_secret = random_upper(40);
    let answer = view(app);
    let metadata = name_and_id(app);
    log_action(
        ctx,
        state,
        "reset_application_client_secret",
        &org,
        None,
        metadata,
    );
    Ok(Reply::ok(answer))
}

/// `GET /api/v1/app/{client_id}`: what anyone may see of an application
/// (its avatar is the avatar e-mail's, else the organization's), with its
/// organization's view (teams left out).
pub fn public_view(ctx: &Ctx, state: &mut State) -> ApiResult {
    let client_id = ctx.param("client_id");
    let (ns, app) = state
        .namespaces
        .values()
        .find_map(|ns| {
            ns.org()
                .and_then(|o| o.applications.iter().find(|a| a.client_id == client_id))
                .map(|app| (ns, app))
        })
        .ok_or_else(ApiError::not_found)?;
    let seed = app
        .avatar_email
        .clone()
        .or_else(|| ns.email.clone())
        .unwrap_or_else(|| ns.name.clone());
    Ok(Reply::ok(json!({
        "name": app.name,
        "description": app.description,
        "uri": app.application_uri,
        "avatar": avatar(&app.name, &seed, "app"),
        "organization": org_view_with_teams(ctx, state, ns, false),
    })))
}
