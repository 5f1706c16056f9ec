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

/// Query string of `GET /auth/sessions`; the total is in `X-Total-Count`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(default)]
pub struct SessionListQuery {
    /// 1-based page number (default 1).
    #[cfg_attr(feature = "openapi", param(value_type = Option<u64>, minimum = 1))]
    pub page: Option<String>,
    /// Page size, 1-100 (default 50).
    #[cfg_attr(feature = "openapi", param(value_type = Option<u64>, minimum = 1, maximum = 100))]
    pub per_page: Option<String>,
}

/// A validated [`SessionListQuery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPage {
    pub page: u64,
    pub per_page: u64,
}

impl SessionListQuery {
    pub const DEFAULT_PER_PAGE: u64 = 50;

    pub fn validate(&self) -> Result<SessionPage, crate::FieldErrors> {
        let mut v = crate::validate::Validator::new();
        let (page, per_page) = crate::common::paging(
            &mut v,
            &self.page,
            &self.per_page,
            Self::DEFAULT_PER_PAGE,
            100,
        );
        v.finish(|| SessionPage {
            page: page.unwrap(),
            per_page: per_page.unwrap(),
        })
    }
}
