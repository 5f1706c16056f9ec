//! API keys: the credentials of integrations (`/api-keys`). A key acts for the admin
//! who made it, and only within its scopes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::{FieldErrors, Validator};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What a key may do. Anything not listed for a scope is closed to every key
/// (sessions, passwords, keys themselves, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum ApiScope {
    /// List, search, export and read accounts and their pictures.
    #[serde(rename = "users:read")]
    UsersRead,
    /// Create, change, disable, enable, unlock and delete accounts.
    #[serde(rename = "users:write")]
    UsersWrite,
    /// Read the audit trail.
    #[serde(rename = "audit:read")]
    AuditRead,
}

impl ApiScope {
    pub const ALL: &'static [ApiScope] = &[Self::UsersRead, Self::UsersWrite, Self::AuditRead];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UsersRead => "users:read",
            Self::UsersWrite => "users:write",
            Self::AuditRead => "audit:read",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == raw.trim())
    }

    /// What the app shows next to the scope's checkbox.
    pub fn description(self) -> &'static str {
        match self {
            Self::UsersRead => "List, search, export and read accounts",
            Self::UsersWrite => "Create, change, disable and delete accounts",
            Self::AuditRead => "Read the audit trail",
        }
    }
}

impl std::fmt::Display for ApiScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The prefix of every key's secret, so that scanners and people can tell one.
pub const API_KEY_PREFIX: &str = "umk_";

/// A key as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiKey {
    pub id: i32,
    pub name: String,
    /// The secret's first characters (`umk_AbC…`), to tell keys apart.
    pub hint: String,
    pub scopes: Vec<ApiScope>,
    /// The admin the key acts for.
    pub owner: String,
    pub created_at: DateTime<Utc>,
    /// Null: never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    /// Set once revoked: the key no longer works.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /api-keys`: a new key. Needs the caller's current password.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "name": "HR sync", "scopes": ["users:read", "users:write"],
    "expires_at": "2027-12-31T23:59:59Z", "current_password": "correct horse battery staple"
})))]
pub struct CreateApiKeyRequest {
    /// 1-100 characters, to recognise the key by.
    pub name: String,
    /// At least one.
    pub scopes: Vec<ApiScope>,
    /// When the key stops working; omit for a key that does not expire.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// The caller's password (re-authentication).
    pub current_password: String,
}

/// A validated [`CreateApiKeyRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<ApiScope>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl CreateApiKeyRequest {
    pub const MAX_NAME: usize = 100;

    pub fn validate(&self, now: DateTime<Utc>) -> Result<NewApiKey, FieldErrors> {
        let mut v = Validator::new();
        let name = self.name.trim();
        if name.is_empty() {
            v.fail("name", "is required");
        } else if name.chars().count() > Self::MAX_NAME {
            v.fail(
                "name",
                format!("must be at most {} characters", Self::MAX_NAME),
            );
        } else if name.chars().any(char::is_control) {
            v.fail("name", "must not contain control characters");
        }
        let mut scopes = self.scopes.clone();
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            v.fail("scopes", "must name at least one scope");
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            v.fail("expires_at", "must be in the future");
        }
        if self.current_password.is_empty() {
            v.fail("current_password", "is required");
        }
        v.finish(|| NewApiKey {
            name: name.to_owned(),
            scopes,
            expires_at: self.expires_at,
        })
    }
}

/// The answer to `POST /api-keys`: the key, and its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// `umk_` and 43 characters: send it as `Authorization: Bearer umk_...`. It is
    /// not stored and cannot be shown again.
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CreateApiKeyRequest {
        CreateApiKeyRequest {
            name: " HR sync ".into(),
            scopes: vec![
                ApiScope::UsersWrite,
                ApiScope::UsersRead,
                ApiScope::UsersWrite,
            ],
            expires_at: None,
            current_password: "pw".into(),
        }
    }

    #[test]
    fn a_valid_request_is_trimmed_and_its_scopes_listed_once() {
        let key = request().validate(Utc::now()).unwrap();
        assert_eq!(key.name, "HR sync");
        assert_eq!(key.scopes, [ApiScope::UsersRead, ApiScope::UsersWrite]);
    }

    #[test]
    fn names_scopes_expiry_and_password_are_checked() {
        let now = Utc::now();
        let bad = CreateApiKeyRequest {
            name: "  ".into(),
            scopes: vec![],
            expires_at: Some(now),
            current_password: String::new(),
        };
        let errors = bad.validate(now).unwrap_err();
        for field in ["name", "scopes", "expires_at", "current_password"] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn scope_names_round_trip_through_json() {
        for scope in ApiScope::ALL {
            let json = serde_json::to_string(scope).unwrap();
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
            assert_eq!(ApiScope::parse(scope.as_str()), Some(*scope));
        }
    }
}
