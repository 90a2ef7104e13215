//! Global messages (`/api/v1/messages`, `/api/v1/message/{uuid}`): banners a
//! superuser shows every user. Quay has no update and no single GET; its
//! create answers 201 with an empty body (no uuid) and its delete answers 204
//! for any uuid, known or not.

use serde_json::{Value, json};

use super::super::errors::{ApiError, ApiResult, Html, Reply};
use super::super::request::Ctx;
use super::super::state::{GlobalMessage, State};

/// `GET /api/v1/messages`: every message, oldest first (no login needed).
pub fn list(_: &Ctx, state: &mut State) -> ApiResult {
    let messages: Vec<Value> = state
        .messages
        .iter()
        .map(|m| {
            json!({
                "uuid": m.uuid,
                "content": m.content,
                "severity": m.severity,
                "media_type": m.media_type,
            })
        })
        .collect();
    Ok(Reply::ok(json!({ "messages": messages })))
}

/// `POST /api/v1/messages`: a superuser adds a message.
pub fn create(ctx: &Ctx, state: &mut State) -> ApiResult {
    if !ctx.caller.superuser {
        return Err(ctx.deny());
    }
    let body = ctx.json(&json!({
        "type": "object",
        "description": "Create a new message",
        "properties": {
            "message": {
                "type": "object",
                "description": "A single message",
                "required": ["content", "media_type", "severity"],
                "properties": {
                    "content": {"type": "string", "description": "The actual message"},
                    "media_type": {
                        "type": "string",
                        "description": "The media type of the message",
                        "enum": ["text/plain", "text/markdown"],
                    },
                    "severity": {
                        "type": "string",
                        "description": "The severity of the message",
                        "enum": ["info", "warning", "error"],
                    },
                },
            },
        },
    }))?;
    // The schema does not require the wrapper; Quay then fails reading it.
    let Some(message) = body.get("message") else {
        return Err(ApiError::Html(Html::ServerError(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        )));
    };
    let field = |key: &str| message[key].as_str().unwrap_or_default().to_owned();
    state.messages.push(GlobalMessage {
        uuid: super::new_uuid(),
        content: field("content"),
        severity: field("severity"),
        media_type: field("media_type"),
    });
    Ok(Reply::EmptyHtml(axum::http::StatusCode::CREATED))
}

/// `DELETE /api/v1/message/{uuid}`: 204 whether or not such a message exists.
pub fn delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    if !ctx.caller.superuser {
        return Err(ctx.deny());
    }
    let uuid = ctx.param("uuid");
    state.messages.retain(|m| m.uuid != uuid);
    Ok(Reply::EmptyHtml(axum::http::StatusCode::NO_CONTENT))
}
