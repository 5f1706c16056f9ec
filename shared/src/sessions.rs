//! The caller's sessions: browser logins and API tokens (`GET /auth/sessions`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::common::string_enum;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

string_enum!(
    /// How a session proves itself.
    SessionKind {
        /// A browser login: the token sits in the HttpOnly cookie and renews while used.
        Cookie => "cookie",
        /// An API token from `POST /auth/token`; it never renews.
        Bearer => "bearer",
    }
);

/// One live session of the caller (`GET /auth/sessions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionInfo {
    /// A handle for `DELETE /auth/sessions/{id}` (not the token).
    pub id: String,
    pub kind: SessionKind,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// How many sessions a bulk revocation ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RevokedSessions {
    pub revoked: u64,
}
