//! Webhooks (`/webhooks`): admins register receivers for account events; each
//! delivery follows the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256>`), body `{type, timestamp, data}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::common::string_enum;
use crate::validate::{FieldErrors, Validator};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What happened to an account. `data` is the account as `GET /users/{id}` shows it
/// to an admin (after the change; before it, for `user.deleted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum WebhookEventType {
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.updated")]
    UserUpdated,
    #[serde(rename = "user.deleted")]
    UserDeleted,
    #[serde(rename = "user.disabled")]
    UserDisabled,
    #[serde(rename = "user.enabled")]
    UserEnabled,
    #[serde(rename = "user.role_changed")]
    UserRoleChanged,
    #[serde(rename = "user.password_changed")]
    UserPasswordChanged,
    /// Too many failed logins: the account is locked for a while.
    #[serde(rename = "user.locked")]
    UserLocked,
}

impl WebhookEventType {
    pub const ALL: &'static [WebhookEventType] = &[
        Self::UserCreated,
        Self::UserUpdated,
        Self::UserDeleted,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserRoleChanged,
        Self::UserPasswordChanged,
        Self::UserLocked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserUpdated => "user.updated",
            Self::UserDeleted => "user.deleted",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::UserRoleChanged => "user.role_changed",
            Self::UserPasswordChanged => "user.password_changed",
            Self::UserLocked => "user.locked",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.as_str() == raw.trim())
    }
}

impl std::fmt::Display for WebhookEventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

string_enum!(
    /// Where a delivery stands.
    DeliveryStatus {
        /// Not yet accepted by the receiver; retried with backoff.
        Pending => "pending",
        /// The receiver answered 2xx.
        Delivered => "delivered",
        /// Every retry failed (over about 24 hours); "resend" tries again.
        Failed => "failed",
    }
);

/// A registered receiver (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookEndpoint {
    pub id: i32,
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEventType>,
    pub created_at: DateTime<Utc>,
}

/// `POST /webhooks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "url": "https://hr.example.com/hooks/users", "events": ["user.created", "user.deleted"],
    "description": "HR system"
})))]
pub struct CreateWebhookRequest {
    /// `https://` (plain `http://` only to loopback, and only where the server allows
    /// private addresses).
    pub url: String,
    /// At least one.
    pub events: Vec<WebhookEventType>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A validated [`CreateWebhookRequest`] (the address itself is checked by the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<WebhookEventType>,
    pub description: String,
}

impl CreateWebhookRequest {
    pub const MAX_URL: usize = 2048;
    pub const MAX_DESCRIPTION: usize = 200;

    pub fn validate(&self) -> Result<NewWebhook, FieldErrors> {
        let mut v = Validator::new();
        let url = self.url.trim();
        if url.is_empty() {
            v.fail("url", "is required");
        } else if url.len() > Self::MAX_URL {
            v.fail(
                "url",
                format!("must be at most {} characters", Self::MAX_URL),
            );
        } else if !(url.starts_with("https://") || url.starts_with("http://")) {
            v.fail("url", "must start with https://");
        }
        let mut events = self.events.clone();
        events.sort();
        events.dedup();
        if events.is_empty() {
            v.fail("events", "must name at least one event");
        }
        let description = self.description.as_deref().unwrap_or_default().trim();
        if description.chars().count() > Self::MAX_DESCRIPTION {
            v.fail(
                "description",
                format!("must be at most {} characters", Self::MAX_DESCRIPTION),
            );
        }
        v.finish(|| NewWebhook {
            url: url.to_owned(),
            events,
            description: description.to_owned(),
        })
    }
}

/// The answer to `POST /webhooks`: the endpoint and its signing secret, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedWebhook {
    pub endpoint: WebhookEndpoint,
    /// `whsec_` and the base64 of the HMAC key: verify `webhook-signature` with it.
    pub secret: String,
}

/// One event sent (or to be sent) to an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookDelivery {
    pub id: i64,
    /// The `webhook-id`: the same on every attempt, so receivers can drop repeats.
    pub message_id: String,
    pub event_type: WebhookEventType,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: DateTime<Utc>,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip_through_json() {
        for event in WebhookEventType::ALL {
            let json = serde_json::to_string(event).unwrap();
            assert_eq!(json, format!("\"{}\"", event.as_str()));
            assert_eq!(WebhookEventType::parse(event.as_str()), Some(*event));
        }
    }

    #[test]
    fn requests_need_an_address_and_events() {
        let errors = CreateWebhookRequest::default().validate().unwrap_err();
        assert!(errors.contains_key("url") && errors.contains_key("events"));
        let bad = CreateWebhookRequest {
            url: "ftp://x".into(),
            events: vec![WebhookEventType::UserCreated],
            description: None,
        };
        assert!(bad.validate().unwrap_err().contains_key("url"));
    }
}
