//! Global messages: banners Quay shows every user (superuser only). Quay has
//! no update and no single GET, and its create answers without the new
//! message's uuid: list again to learn it.

use serde::{Deserialize, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// A global message as listed.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct GlobalMessage {
    /// Quay's id of the message.
    pub uuid: String,
    /// The text.
    pub content: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
    /// `text/plain` or `text/markdown`.
    pub media_type: String,
}

/// A message to create.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NewMessage {
    /// The text.
    pub content: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
    /// `text/plain` or `text/markdown`.
    pub media_type: String,
}

#[derive(Deserialize)]
struct MessageList {
    messages: Vec<GlobalMessage>,
}

#[derive(Serialize)]
struct CreateMessage<'a> {
    message: &'a NewMessage,
}

impl QuayClient {
    /// Every global message, oldest first.
    pub async fn global_messages(&self) -> Result<Vec<GlobalMessage>, QuayError> {
        let list: MessageList = self.get_json(Call::get("/messages")).await?;
        Ok(list.messages)
    }

    /// Creates a global message (needs a superuser token). Quay does not
    /// answer with its uuid.
    pub async fn create_global_message(&self, message: &NewMessage) -> Result<(), QuayError> {
        let body = CreateMessage { message };
        self.execute(Call::post("/messages").json(&body)).await
    }

    /// Deletes a global message. Quay answers 204 even for an unknown uuid.
    pub async fn delete_global_message(&self, uuid: &str) -> Result<(), QuayError> {
        self.execute(Call::delete(format!("/message/{uuid}"))).await
    }
}
