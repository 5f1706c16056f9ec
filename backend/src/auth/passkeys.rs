//! Passkeys (WebAuthn, checked by webauthn-rs): registering one on a logged-in
//! account, signing in with one alone (it proves possession and, with user
//! verification, the person: a complete login), and giving one as the second factor.
//!
//! - The relying party is the host of `PUBLIC_URL`; without one (or on a loopback
//!   address, which WebAuthn refuses) it is `localhost`, on any port.
//! - Every ceremony's state stays on the server, in the database (any instance may
//!   take the finish), keyed by the SHA-256 of its challenge: the finish finds its
//!   start from the credential's signed client data alone. Each is single-use and
//!   lives 5 minutes.
//! - New passkeys are discoverable (resident) keys, so signing in needs no username;
//!   an authenticator that ignores the hint still works when the username is given.
//! - The account keeps its count (`users.mfa_passkeys`), in the transaction of each
//!   change, so every user object shows it without another query.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::PasskeyOptions;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey as Credential, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::clock::now;
use crate::db::entity::passkey::{self, Column as PasskeyColumn, Entity as PasskeyRows};
use crate::db::entity::passkey_ceremony::{
    self, Column as CeremonyColumn, Entity as Ceremonies, Purpose,
};
use crate::db::entity::user::{self, Column as UserColumn, Entity as Users};

/// How long a registration or sign-in may take between its start and its finish.
pub const CEREMONY_TTL: Duration = Duration::minutes(5);

/// Why a passkey operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// `PUBLIC_URL` names a host WebAuthn cannot use (an IP address not on loopback).
    #[error("passkeys are not available on this server")]
    Unavailable,
    /// The body is not a WebAuthn credential.
    #[error("not a WebAuthn credential")]
    Malformed,
    /// The ceremony is unknown, expired or spent, or the signature, origin, user
    /// verification or key did not check out.
    #[error("the passkey was not accepted")]
    Rejected,
    #[error("this passkey is registered already")]
    AlreadyRegistered,
    #[error("no such passkey")]
    NotFound,
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// A registration's state, with the user handle its options named.
#[derive(Serialize, Deserialize)]
struct Registration {
    user_handle: String,
    state: PasskeyRegistration,
}

/// The passkey store and the relying party's checks.
#[derive(Clone)]
pub struct Passkeys {
    db: DatabaseConnection,
    webauthn: Option<Arc<Webauthn>>,
}

/// The relying party id and origin for `public_url`, and whether any port of it
/// goes (no `PUBLIC_URL`: `localhost`, wherever the server listens).
fn relying_party(public_url: Option<&Url>) -> Option<(String, Url, bool)> {
    let localhost = |port: Option<u16>, scheme: &str| {
        let mut origin = Url::parse(&format!("{scheme}://localhost")).ok()?;
        origin.set_port(port).ok()?;
        Some(("localhost".to_owned(), origin, port.is_none()))
    };
    let Some(url) = public_url else {
        return localhost(None, "http");
    };
    match url.host()? {
        url::Host::Domain(name) => {
            let origin = Url::parse(&url.origin().ascii_serialization()).ok()?;
            Some((name.to_owned(), origin, false))
        }
        url::Host::Ipv4(ip) if ip.is_loopback() => localhost(url.port(), url.scheme()),
        url::Host::Ipv6(ip) if ip.is_loopback() => localhost(url.port(), url.scheme()),
        _ => None,
    }
}

impl Passkeys {
    pub fn new(db: DatabaseConnection, public_url: Option<&Url>, app_name: &str) -> Self {
        let Some((rp_id, origin, any_port)) = relying_party(public_url) else {
            tracing::warn!("passkeys are off: PUBLIC_URL must name a host, not an IP address");
            return Self { db, webauthn: None };
        };
        let built = WebauthnBuilder::new(&rp_id, &origin)
            .map(|b| b.rp_name(app_name).allow_any_port(any_port))
            .and_then(WebauthnBuilder::build);
        let webauthn = match built {
            Ok(webauthn) => Some(Arc::new(webauthn)),
            Err(error) => {
                tracing::warn!(%error, %origin, "passkeys are off: WebAuthn refuses this origin");
                None
            }
        };
        Self { db, webauthn }
    }

    fn webauthn(&self) -> Result<&Webauthn, PasskeyError> {
        self.webauthn.as_deref().ok_or(PasskeyError::Unavailable)
    }

    /// `user`'s passkeys, oldest first.
    pub async fn list(&self, user_id: i32) -> Result<Vec<passkey::Model>, DbErr> {
        PasskeyRows::find()
            .filter(PasskeyColumn::UserId.eq(user_id))
            .order_by_asc(PasskeyColumn::Id)
            .all(&self.db)
            .await
    }

    /// Starts registering a passkey named `name` for `user`: the options for
    /// `navigator.credentials.create()`. The account's other keys are excluded.
    pub async fn start_registration(
        &self,
        user: &user::Model,
        name: String,
    ) -> Result<PasskeyOptions, PasskeyError> {
        let webauthn = self.webauthn()?;
        let existing = self.list(user.id).await?;
        let handle = existing
            .first()
            .and_then(|row| Uuid::parse_str(&row.user_handle).ok())
            .unwrap_or_else(Uuid::new_v4);
        let exclude = existing
            .iter()
            .filter_map(|row| credential(row).ok())
            .map(|key| key.cred_id().clone())
            .collect();
        let full_name = format!("{} {}", user.first_name, user.last_name);
        let display = match full_name.trim() {
            "" => user.username.as_str(),
            name => name,
        };
        let (options, state) = webauthn
            .start_passkey_registration(handle, &user.username, display, Some(exclude))
            .map_err(|error| {
                tracing::error!(%error, "could not start a passkey registration");
                PasskeyError::Rejected
            })?;
        let challenge = options.public_key.challenge.clone();
        let mut public_key = to_json(&options.public_key);
        // A discoverable key, so that signing in needs no username (the hint is not
        // part of what the finish checks).
        if let Some(selection) = public_key.get_mut("authenticatorSelection") {
            selection["residentKey"] = "required".into();
            selection["requireResidentKey"] = true.into();
        }
        let state = Registration {
            user_handle: handle.to_string(),
            state,
        };
        self.save_ceremony(
            Purpose::Register,
            Some(user.id),
            Some(name),
            &challenge,
            &state,
        )
        .await?;
        Ok(PasskeyOptions { public_key })
    }

    /// Finishes a registration of `user`'s with what the browser created; `name`
    /// replaces the one given at the start. Returns the new key and, when it is the
    /// account's first second factor, fresh recovery codes.
    pub async fn finish_registration(
        &self,
        user: &user::Model,
        name: Option<String>,
        body: serde_json::Value,
    ) -> Result<(passkey::Model, Vec<String>), PasskeyError> {
        let webauthn = self.webauthn()?;
        let response: RegisterPublicKeyCredential =
            serde_json::from_value(body).map_err(|_| PasskeyError::Malformed)?;
        let data = &response.response.client_data_json;
        let ceremony = self
            .take_ceremony(Purpose::Register, Some(user.id), data)
            .await?
            .ok_or(PasskeyError::Rejected)?;
        let Registration { user_handle, state } = from_json(&ceremony.state)?;
        // A key of this site's already (webauthn-rs refuses excluded keys under
        // another error's name): what the browser would have said.
        if self.find_credential(&response.raw_id).await?.is_some() {
            return Err(PasskeyError::AlreadyRegistered);
        }
        let key = webauthn
            .finish_passkey_registration(&response, &state)
            .map_err(|error| {
                tracing::info!(user_id = user.id, %error, "passkey registration refused");
                PasskeyError::Rejected
            })?;
        let name = name
            .or(ceremony.name)
            .unwrap_or_else(|| "Passkey".to_owned());
        let txn = self.db.begin().await?;
        let row = passkey::ActiveModel {
            user_id: Set(user.id),
            name: Set(name),
            credential_hash: Set(sha256_hex(key.cred_id())),
            user_handle: Set(user_handle),
            credential: Set(to_json(&key).to_string()),
            created_at: Set(now()),
            last_used_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|err| match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => PasskeyError::AlreadyRegistered,
            _ => err.into(),
        })?;
        let first_factor = !super::mfa::enabled(user);
        Users::update_many()
            .col_expr(
                UserColumn::MfaPasskeys,
                Expr::col(UserColumn::MfaPasskeys).add(1),
            )
            .filter(UserColumn::Id.eq(user.id))
            .exec(&txn)
            .await?;
        let codes = if first_factor {
            super::mfa::replace_recovery_codes(&txn, user.id).await?
        } else {
            Vec::new()
        };
        txn.commit().await?;
        Ok((row, codes))
    }

    /// Removes passkey `id` of `user`'s; the recovery codes go too when no second
    /// factor remains.
    pub async fn remove(
        &self,
        user: &user::Model,
        id: i32,
    ) -> Result<passkey::Model, PasskeyError> {
        let row = PasskeyRows::find_by_id(id)
            .filter(PasskeyColumn::UserId.eq(user.id))
            .one(&self.db)
            .await?
            .ok_or(PasskeyError::NotFound)?;
        let txn = self.db.begin().await?;
        let gone = PasskeyRows::delete_many()
            .filter(PasskeyColumn::Id.eq(row.id))
            .exec(&txn)
            .await?;
        if gone.rows_affected != 1 {
            return Err(PasskeyError::NotFound);
        }
        Users::update_many()
            .col_expr(
                UserColumn::MfaPasskeys,
                Expr::col(UserColumn::MfaPasskeys).sub(1),
            )
            .filter(UserColumn::Id.eq(user.id))
            .filter(UserColumn::MfaPasskeys.gt(0))
            .exec(&txn)
            .await?;
        let left = Users::find_by_id(user.id).one(&txn).await?;
        if left.is_some_and(|u| !super::mfa::enabled(&u)) {
            super::mfa::delete_recovery_codes(&txn, user.id).await?;
            Users::update_many()
                .col_expr(UserColumn::MfaRecoveryLeft, Expr::value(0))
                .filter(UserColumn::Id.eq(user.id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(row)
    }

    /// Starts a sign-in with a passkey alone: the options for
    /// `navigator.credentials.get()`, for whichever key of this site the browser
    /// holds. No username is needed: the key names its account, and an answer that
    /// is the same for every name tells nobody whether an account has passkeys.
    pub async fn start_login(&self) -> Result<PasskeyOptions, PasskeyError> {
        let webauthn = self.webauthn()?;
        let (options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|error| {
                tracing::error!(%error, "could not start a passkey sign-in");
                PasskeyError::Rejected
            })?;
        let challenge = options.public_key.challenge.clone();
        self.save_ceremony(Purpose::Login, None, None, &challenge, &state)
            .await?;
        // No `mediation: conditional`: the sign-in follows a click, not autofill.
        Ok(PasskeyOptions {
            public_key: to_json(&options.public_key),
        })
    }

    /// Finishes a passkey sign-in: the account whose key signed the challenge, with
    /// user verification. The key's counter and last use are recorded.
    pub async fn finish_login(&self, body: serde_json::Value) -> Result<i32, PasskeyError> {
        let webauthn = self.webauthn()?;
        let response: PublicKeyCredential =
            serde_json::from_value(body).map_err(|_| PasskeyError::Malformed)?;
        let ceremony = self
            .take_ceremony(Purpose::Login, None, &response.response.client_data_json)
            .await?
            .ok_or(PasskeyError::Rejected)?;
        let state: DiscoverableAuthentication = from_json(&ceremony.state)?;
        let (handle, credential_id) = webauthn
            .identify_discoverable_authentication(&response)
            .map_err(|_| PasskeyError::Rejected)?;
        let row = self
            .find_credential(credential_id)
            .await?
            .filter(|row| row.user_handle == handle.to_string())
            .ok_or(PasskeyError::Rejected)?;
        let mut key = credential(&row)?;
        let result = webauthn
            .finish_discoverable_authentication_v2(&response, state, &key)
            .map_err(|error| {
                tracing::info!(user_id = row.user_id, %error, "passkey sign-in refused");
                PasskeyError::Rejected
            })?;
        key.update_credential(&result);
        self.record_use(&row, &key).await?;
        Ok(row.user_id)
    }

    /// The passkey check of a second login step for account `user_id`: the options
    /// to send and the state to keep with the step. `None` without passkeys.
    pub async fn start_second_factor(
        &self,
        user_id: i32,
    ) -> Result<Option<(PasskeyOptions, String)>, PasskeyError> {
        let webauthn = self.webauthn()?;
        let keys: Vec<Credential> = self
            .list(user_id)
            .await?
            .iter()
            .filter_map(|row| credential(row).ok())
            .collect();
        if keys.is_empty() {
            return Ok(None);
        }
        let (options, state) = webauthn
            .start_passkey_authentication(&keys)
            .map_err(|error| {
                tracing::error!(%error, "could not start a passkey check");
                PasskeyError::Rejected
            })?;
        let options = PasskeyOptions {
            public_key: to_json(&options.public_key),
        };
        Ok(Some((options, to_json(&state).to_string())))
    }

    /// Whether `assertion` is a passkey of account `user_id`'s signing the second
    /// step whose state is `state`.
    pub async fn check_second_factor(
        &self,
        user_id: i32,
        state: Option<&str>,
        assertion: &serde_json::Value,
    ) -> Result<bool, PasskeyError> {
        let (Some(state), Ok(webauthn)) = (state, self.webauthn()) else {
            return Ok(false);
        };
        let Ok(response) = PublicKeyCredential::deserialize(assertion) else {
            return Ok(false);
        };
        let state: PasskeyAuthentication = from_json(state)?;
        let Some(row) = self
            .find_credential(response.get_credential_id())
            .await?
            .filter(|row| row.user_id == user_id)
        else {
            return Ok(false);
        };
        let mut key = credential(&row)?;
        match webauthn.finish_passkey_authentication(&response, &state) {
            Ok(result) => {
                key.update_credential(&result);
                self.record_use(&row, &key).await?;
                Ok(true)
            }
            Err(error) => {
                tracing::info!(user_id, %error, "passkey refused as a second factor");
                Ok(false)
            }
        }
    }

    /// Forgets ceremonies past their time.
    pub async fn purge_expired(&self) -> Result<u64, DbErr> {
        let purged = Ceremonies::delete_many()
            .filter(CeremonyColumn::ExpiresAt.lte(now()))
            .exec(&self.db)
            .await?;
        Ok(purged.rows_affected)
    }

    async fn find_credential(&self, credential_id: &[u8]) -> Result<Option<passkey::Model>, DbErr> {
        PasskeyRows::find()
            .filter(PasskeyColumn::CredentialHash.eq(sha256_hex(credential_id)))
            .one(&self.db)
            .await
    }

    async fn record_use(&self, row: &passkey::Model, key: &Credential) -> Result<(), DbErr> {
        PasskeyRows::update_many()
            .col_expr(
                PasskeyColumn::Credential,
                Expr::value(to_json(key).to_string()),
            )
            .col_expr(PasskeyColumn::LastUsedAt, Expr::value(Some(now())))
            .filter(PasskeyColumn::Id.eq(row.id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    async fn save_ceremony(
        &self,
        purpose: Purpose,
        user_id: Option<i32>,
        name: Option<String>,
        challenge: &[u8],
        state: &impl Serialize,
    ) -> Result<(), DbErr> {
        passkey_ceremony::ActiveModel {
            challenge_hash: Set(challenge_hash(&URL_SAFE_NO_PAD.encode(challenge))),
            purpose: Set(purpose),
            user_id: Set(user_id),
            name: Set(name),
            state: Set(to_json(state).to_string()),
            expires_at: Set(now() + CEREMONY_TTL),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// The live ceremony of `purpose` (started by `user_id`) whose challenge the
    /// client data signed, spent by this call (only one finish can take it; another
    /// account's finish leaves it be).
    async fn take_ceremony(
        &self,
        purpose: Purpose,
        user_id: Option<i32>,
        client_data_json: &[u8],
    ) -> Result<Option<passkey_ceremony::Model>, DbErr> {
        let Some(challenge) = challenge_of(client_data_json) else {
            return Ok(None);
        };
        let hash = challenge_hash(&challenge);
        let owner = match user_id {
            Some(id) => CeremonyColumn::UserId.eq(id),
            None => CeremonyColumn::UserId.is_null(),
        };
        let Some(ceremony) = Ceremonies::find_by_id(hash.clone())
            .filter(CeremonyColumn::Purpose.eq(purpose))
            .filter(owner)
            .filter(CeremonyColumn::ExpiresAt.gt(now()))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let taken = Ceremonies::delete_many()
            .filter(CeremonyColumn::ChallengeHash.eq(hash))
            .exec(&self.db)
            .await?;
        Ok((taken.rows_affected == 1).then_some(ceremony))
    }
}

/// A passkey as the API shows it.
pub fn to_api(row: passkey::Model) -> shared::Passkey {
    shared::Passkey {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
    }
}

/// The challenge the browser signed, as its client data spells it (base64url).
fn challenge_of(client_data_json: &[u8]) -> Option<String> {
    let data: serde_json::Value = serde_json::from_slice(client_data_json).ok()?;
    data.get("challenge")?.as_str().map(str::to_owned)
}

fn challenge_hash(challenge: &str) -> String {
    hex::encode(Sha256::digest(
        format!("passkey-challenge:{challenge}").as_bytes(),
    ))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn credential(row: &passkey::Model) -> Result<Credential, PasskeyError> {
    from_json(&row.credential)
}

fn to_json(value: &impl Serialize) -> serde_json::Value {
    // The webauthn-rs types serialise to JSON infallibly (no maps with non-string keys).
    serde_json::to_value(value).unwrap_or_default()
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, PasskeyError> {
    serde_json::from_str(text).map_err(|error| {
        tracing::error!(%error, "a stored passkey record could not be read");
        PasskeyError::Rejected
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_host_or_localhost() {
        let rp = |url: Option<&str>| {
            relying_party(url.map(|u| Url::parse(u).unwrap()).as_ref())
                .map(|(id, origin, any)| (id, origin.to_string(), any))
        };
        assert_eq!(
            rp(None),
            Some(("localhost".into(), "http://localhost/".into(), true))
        );
        assert_eq!(
            rp(Some("https://users.example.com/app")),
            Some((
                "users.example.com".into(),
                "https://users.example.com/".into(),
                false
            ))
        );
        assert_eq!(
            rp(Some("http://127.0.0.1:8080")),
            Some(("localhost".into(), "http://localhost:8080/".into(), false))
        );
        assert_eq!(rp(Some("https://203.0.113.7")), None);
    }

    #[test]
    fn the_challenge_is_read_from_the_client_data() {
        let data = br#"{"type":"webauthn.get","challenge":"q83v","origin":"http://localhost:1"}"#;
        assert_eq!(challenge_of(data).as_deref(), Some("q83v"));
        assert_eq!(challenge_of(b"not json"), None);
    }
}
