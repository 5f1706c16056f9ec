//! Passkeys (WebAuthn): registering them on the profile, signing in with one alone,
//! or giving one as the second factor (`/auth/passkeys/...`, `/auth/mfa/verify`).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::{FieldErrors, Validator};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Characters of a passkey's name.
pub const PASSKEY_NAME_MAX: usize = 64;

/// What the browser's `navigator.credentials.create()` (a registration) or `.get()`
/// (a sign-in) is given: `{"publicKey": {...}}` in the WebAuthn JSON form, binary
/// fields in base64url, as `PublicKeyCredential.parseCreationOptionsFromJSON` and
/// `parseRequestOptionsFromJSON` read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PasskeyOptions {
    #[serde(rename = "publicKey")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub public_key: serde_json::Value,
}

/// `POST /auth/passkeys/register/start`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct PasskeyRegisterStart {
    /// What the list shows for this key (`Passkey` when left out).
    #[cfg_attr(feature = "openapi", schema(example = "Laptop"))]
    pub name: Option<String>,
}

impl PasskeyRegisterStart {
    /// The name the key gets.
    pub fn validate(&self) -> Result<String, FieldErrors> {
        let mut v = Validator::new();
        let name = passkey_name(&mut v, self.name.as_deref());
        v.finish(|| name)
    }
}

/// A passkey's name as given: trimmed, `Passkey` when empty, at most 64 characters.
pub fn passkey_name(v: &mut Validator, name: Option<&str>) -> String {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("Passkey");
    if name.chars().count() > PASSKEY_NAME_MAX {
        v.fail("name", "must be at most 64 characters");
    } else if name.chars().any(char::is_control) {
        v.fail("name", "must not contain control characters");
    }
    name.to_owned()
}

/// `POST /auth/passkeys/register/finish`: what `navigator.credentials.create()`
/// returned, in its JSON form (`credential.toJSON()`). The bare credential is taken
/// too.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PasskeyRegisterFinish {
    /// A new name, instead of the one given at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub credential: serde_json::Value,
}

impl fmt::Debug for PasskeyRegisterFinish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasskeyRegisterFinish { .. }")
    }
}

/// `POST /auth/passkeys/login/start`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct PasskeyLoginStart {
    /// The account to sign in to; without one, the browser offers the passkeys it
    /// has for this site.
    pub username: Option<String>,
}

/// `POST /auth/passkeys/login/finish`: what `navigator.credentials.get()` returned,
/// in its JSON form. The bare credential is taken too.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PasskeyLoginFinish {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub credential: serde_json::Value,
}

impl fmt::Debug for PasskeyLoginFinish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasskeyLoginFinish { .. }")
    }
}

/// A passkey of the caller's, as `GET /auth/passkeys` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Passkey {
    pub id: i32,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The answer of `POST /auth/passkeys/register/finish`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewPasskey {
    pub passkey: Passkey,
    /// Recovery codes, shown this once, when this passkey is the account's first
    /// second factor (empty otherwise).
    pub recovery_codes: Vec<String>,
}

impl fmt::Debug for NewPasskey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewPasskey")
            .field("passkey", &self.passkey)
            .finish_non_exhaustive()
    }
}

/// The JSON credential of a finish request: wrapped in `credential`, or bare.
pub fn unwrap_credential(mut body: serde_json::Value) -> (Option<String>, serde_json::Value) {
    let name = body
        .get("name")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    match body.get_mut("credential").map(serde_json::Value::take) {
        Some(credential) => (name, credential),
        None => (name, body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_default_and_are_bounded() {
        let name = |n: Option<&str>| {
            PasskeyRegisterStart {
                name: n.map(str::to_owned),
            }
            .validate()
        };
        assert_eq!(name(None).unwrap(), "Passkey");
        assert_eq!(name(Some("  ")).unwrap(), "Passkey");
        assert_eq!(name(Some(" Laptop ")).unwrap(), "Laptop");
        assert!(name(Some(&"x".repeat(65))).is_err());
        assert!(name(Some("a\u{7}b")).is_err());
    }

    #[test]
    fn a_credential_comes_wrapped_or_bare() {
        let bare = serde_json::json!({ "id": "abc", "type": "public-key" });
        let (name, credential) = unwrap_credential(bare.clone());
        assert_eq!((name, credential), (None, bare.clone()));
        let wrapped = serde_json::json!({ "name": "Key", "credential": bare });
        let (name, credential) = unwrap_credential(wrapped);
        assert_eq!((name.as_deref(), credential), (Some("Key"), bare));
    }
}
