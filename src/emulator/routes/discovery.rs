//! `GET /api/v1/discovery`: a small Swagger 2.0 document of the emulated rules.

use serde_json::{Map, Value, json};

use super::super::errors::{ApiResult, Reply};
use super::super::request::Ctx;
use super::super::state::State;

/// The discovery document, listing the paths this emulator implements.
pub fn discovery(ctx: &Ctx, _state: &mut State) -> ApiResult {
    let host = ctx
        .headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let mut paths: Map<String, Value> = Map::new();
    for route in super::table() {
        let params: Vec<Value> = route
            .template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "type": "string"}))
            .collect();
        let entry = paths
            .entry(route.template.to_string())
            .or_insert_with(|| json!({ "x-path": route.template, "parameters": params }));
        let security: Vec<Value> = route
            .scope
            .map(|s| json!({ "oauth2_implicit": [s.name()] }))
            .into_iter()
            .collect();
        let operation = json!({
            "security": security,
            "responses": {
                "200": {"description": "Successful invocation"},
                "400": {"description": "Bad Request", "schema": {"$ref": "#/definitions/ApiError"}},
                "401": {"description": "Session required", "schema": {"$ref": "#/definitions/ApiError"}},
                "403": {"description": "Unauthorized access", "schema": {"$ref": "#/definitions/ApiError"}},
                "404": {"description": "Not found", "schema": {"$ref": "#/definitions/ApiError"}},
            },
        });
        if let Some(map) = entry.as_object_mut() {
            map.insert(route.method.as_str().to_ascii_lowercase(), operation);
        }
    }
    let scopes: Map<String, Value> = super::super::auth::Scope::ALL
        .iter()
        .map(|s| (s.name().to_string(), Value::String(s.name().to_string())))
        .collect();
    Ok(Reply::ok(json!({
        "swagger": "2.0",
        "host": host,
        "basePath": "/",
        "schemes": ["http"],
        "info": {
            "version": "v1",
            "title": "Quay Frontend (emulator)",
            "description": "In-memory emulator of the Quay API (subset).",
            "termsOfService": "",
            "contact": {"email": "quay@localhost"},
        },
        "securityDefinitions": {
            "oauth2_implicit": {
                "type": "oauth2",
                "flow": "implicit",
                "authorizationUrl": format!("http://{host}/oauth/authorize"),
                "scopes": scopes,
            }
        },
        "paths": paths,
        "definitions": {
            "ApiError": {
                "type": "object",
                "required": ["status", "type", "detail", "title"],
                "properties": {
                    "status": {"type": "integer"},
                    "type": {"type": "string"},
                    "detail": {"type": "string"},
                    "title": {"type": "string"},
                    "error_message": {"type": "string"},
                    "error_type": {"type": "string"},
                },
            }
        },
        "tags": [],
    })))
}
