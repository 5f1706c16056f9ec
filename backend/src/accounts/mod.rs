//! Accounts: mutations on the `users` table. Every rule that needs the database
//! (unique values, "keep one admin") is enforced here, atomically; who may change
//! what is in [`policy`], the reads are in `query`.

mod admins;
pub mod email;
pub mod export;
pub mod import;
pub mod invitations;
pub mod policy;
mod query;
pub mod registration;
pub mod search;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, Set};
use secrecy::SecretString;
use shared::{FieldErrors, NewAccount, ProfileChanges, Role, User, WebhookEventType};

pub use self::admins::{any_admin, close_first_admin_claim, first_admin_settled};
pub use self::query::{
    ListPage, ListScope, SearchPlan, find, find_by_email, find_by_login, get, list, list_queries,
    replace_password_hash, some_legacy_hashes,
};
use crate::auth::lockout;
use crate::auth::password::{HashError, Passwords};
use crate::auth::session;
use crate::clock::now;
use crate::db::{self, entity::invitation, entity::user};
use crate::integrations::webhooks;
use crate::recovery::store as recovery_flows;

/// Why an account change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("no such account")]
    NotFound,
    /// Values that must be unique and are already taken by another account.
    #[error("already in use: {}", .0.join(", "))]
    Duplicate(Vec<&'static str>),
    /// A state rule such as "keep one admin".
    #[error("{0}")]
    Conflict(&'static str),
    /// The caller may not make this change.
    #[error("{0}")]
    NotAllowed(&'static str),
    /// The request breaks a rule of this change (a missing or wrong current password,
    /// a sort the caller may not use).
    #[error("invalid: {0:?}")]
    Invalid(FieldErrors),
    /// A wrong, expired or used verification code.
    #[error("the code is wrong or has expired")]
    WrongCode,
    /// The account is no longer at the version the change was made against.
    #[error("the account changed since it was read")]
    Changed,
    /// Sign-up refused by policy (closed, by invitation, a domain not allowed, no
    /// setup token for the first account).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Hashing(#[from] HashError),
    #[error(transparent)]
    Database(DbErr),
}

impl From<DbErr> for AccountError {
    /// A unique-key violation names the taken field; see `explain_duplicates` for
    /// the full list.
    fn from(err: DbErr) -> Self {
        match db::duplicate_column(&err) {
            Some(field) => AccountError::Duplicate(vec![field]),
            None => AccountError::Database(err),
        }
    }
}

/// An account as the API shows it. Whether it is locked is derived here, so a lock
/// that ran out shows as none.
pub fn to_api(model: user::Model) -> User {
    let locked_until = model
        .locked_until
        .filter(|_| lockout::is_locked(&model, Utc::now()));
    let mfa = Some(crate::auth::mfa::summary(&model));
    User {
        locked_until,
        disabled_at: model.disabled_at,
        role: model.role,
        id: model.id,
        first_name: model.first_name,
        last_name: model.last_name,
        username: model.username,
        email_verified: Some(model.email_verified_at.is_some()),
        email: Some(model.email),
        pending_email: model.pending_email,
        mobile: Some(model.mobile),
        created_at: model.created_at,
        updated_at: model.updated_at,
        last_login_at: model.last_login_at,
        mfa,
        avatar_url: model
            .avatar_version
            .map(|version| crate::avatars::url(model.id, &version)),
    }
}

/// How an account comes to be, besides its fields.
#[derive(Debug, Clone, Default)]
pub struct Creation {
    /// `None`: a sign-up, which becomes the admin when it is the first account.
    pub role: Option<Role>,
    /// The address is already proved (an invitation code came back; an operator typed
    /// it at the command line).
    pub email_verified: bool,
    /// A sign-up on an instance reachable from the network: whether it brought the
    /// right setup token. Being the first account then needs it.
    pub setup_token_ok: Option<bool>,
    /// The invitation this sign-up redeemed, used up with the account.
    pub invitation: Option<i32>,
    /// Admitted only as the first account (the one that becomes admin): refused if
    /// another sign-up wins that race.
    pub first_admin_only: bool,
}

/// Creates an account. With no explicit role, the first account of an empty database
/// becomes the admin and every later one a user.
pub async fn create(
    db: &DatabaseConnection,
    passwords: &Passwords,
    account: NewAccount,
    creation: Creation,
) -> Result<user::Model, AccountError> {
    let (password_hash, answer_hash) = tokio::try_join!(
        passwords.hash(SecretString::from(account.password.into_inner())),
        passwords.hash(SecretString::from(account.security_answer.into_inner())),
    )?;
    let unique = UniqueValues {
        username: account.username.into_inner(),
        email: account.email.into_inner(),
        mobile: account.mobile.into_inner(),
    };
    let now = now();
    let model = user::ActiveModel {
        first_name: Set(account.first_name.into_inner()),
        last_name: Set(account.last_name.into_inner()),
        username: Set(unique.username.clone()),
        email: Set(unique.email.clone()),
        mobile: Set(unique.mobile.clone()),
        password_hash: Set(password_hash),
        security_question: Set(Some(account.security_question.into_inner())),
        security_answer_hash: Set(Some(answer_hash)),
        role: Set(creation.role.unwrap_or(Role::User)),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        email_verified_at: Set(creation.email_verified.then_some(now)),
        ..Default::default()
    };
    db::retry_conflicts(|| insert(db, model.clone(), &unique, &creation)).await
}

/// One attempt at storing a new account, with its search terms, the first-admin
/// rule and the invitation it used up.
async fn insert(
    db: &DatabaseConnection,
    model: user::ActiveModel,
    unique: &UniqueValues,
    creation: &Creation,
) -> Result<user::Model, AccountError> {
    let txn = db::begin_write(db).await?;
    let model = match model.insert(&txn).await {
        Ok(model) => model,
        Err(err) => {
            let _ = txn.rollback().await;
            return Err(explain_duplicates(db, err, unique, None).await);
        }
    };
    search::reindex(&txn, std::slice::from_ref(&model)).await?;
    let model = admins::settle_first_admin(&txn, model, creation).await?;
    if let Some(id) = creation.invitation {
        invitation::Entity::delete_by_id(id).exec(&txn).await?;
    }
    announce(&txn, WebhookEventType::UserCreated, &model).await?;
    txn.commit().await?;
    Ok(model)
}

/// Writes webhook deliveries of `event` about `user`, in the change's transaction.
async fn announce(
    txn: &impl sea_orm::ConnectionTrait,
    event: WebhookEventType,
    user: &user::Model,
) -> Result<(), DbErr> {
    webhooks::enqueue(txn, event, &to_api(user.clone())).await
}

impl db::DbFailure for AccountError {
    fn db_err(&self) -> Option<&DbErr> {
        match self {
            Self::Database(err) => Some(err),
            _ => None,
        }
    }
}

/// The values of an account that no other account may share.
struct UniqueValues {
    username: String,
    email: String,
    mobile: String,
}

/// Turns a unique-key violation into a 409 naming every taken field, not just the
/// one the database happened to check first. Runs only on the error path.
async fn explain_duplicates(
    db: &DatabaseConnection,
    err: DbErr,
    values: &UniqueValues,
    exclude: Option<i32>,
) -> AccountError {
    if db::duplicate_column(&err).is_none() {
        return err.into();
    }
    match query::taken_fields(db, values, exclude).await {
        Ok(fields) if !fields.is_empty() => AccountError::Duplicate(fields),
        _ => err.into(),
    }
}

/// Everything an update may change, already validated and hashed.
#[derive(Clone, Default)]
pub struct Update {
    pub profile: ProfileChanges,
    pub security_answer_hash: Option<String>,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    /// The hash of a recovery reset token this update spends, in its transaction: if
    /// the token is not live, nothing changes ([`AccountError::WrongCode`]).
    pub recovery_reset: Option<String>,
    /// Apply only to these versions of the account, checked under the row lock
    /// ([`AccountError::Changed`] otherwise).
    pub if_match: Option<IfMatch>,
}

/// The versions (see [`version`]) a change may apply to: an `If-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(pub Vec<String>);

impl IfMatch {
    /// Whether `user` is at one of the versions; a refusal otherwise.
    pub fn check(&self, user: &user::Model) -> Result<(), AccountError> {
        let current = version(user);
        match self.0.contains(&current) {
            true => Ok(()),
            false => Err(AccountError::Changed),
        }
    }
}

/// The version of an account as the API shows it: a hash of everything [`to_api`]
/// returns, so any visible change gives a new one (served as its `ETag`).
pub fn version(user: &user::Model) -> String {
    use sha2::{Digest, Sha256};
    let shown = serde_json::to_vec(&to_api(user.clone())).unwrap_or_default();
    hex::encode(&Sha256::digest(&shown)[..8])
}

/// Profile changes ready to store: the new security answer, if any, hashed.
pub async fn profile_update(
    passwords: &Passwords,
    mut profile: ProfileChanges,
) -> Result<Update, AccountError> {
    let security_answer_hash = match profile.security_answer.take() {
        Some(answer) => Some(
            passwords
                .hash(SecretString::from(answer.into_inner()))
                .await?,
        ),
        None => None,
    };
    Ok(Update {
        profile,
        security_answer_hash,
        ..Default::default()
    })
}

/// An applied update: the account as stored now, and what changed.
#[derive(Debug)]
pub struct Updated {
    pub user: user::Model,
    /// Names of the fields whose value changed (secrets by name only). A new address
    /// shows as `pending_email`: `email` changes only once it is verified.
    pub changed: Vec<&'static str>,
    pub previous_role: Role,
    /// The account as it was.
    pub before: user::Model,
}

impl Updated {
    /// The new address waiting for its code, when this update asked for one.
    pub fn requested_email(&self) -> Option<&str> {
        self.user
            .pending_email
            .as_deref()
            .filter(|_| self.before.pending_email != self.user.pending_email)
    }
}

impl Updated {
    pub fn role_changed(&self) -> bool {
        self.user.role != self.previous_role
    }
}

/// Whether `profile` would change account `current`'s credentials-like fields:
/// username, email (a new one), mobile, security question or answer.
pub fn touches_contact_or_recovery(current: &user::Model, profile: &ProfileChanges) -> bool {
    let differs = |new: Option<&str>, old: &str| new.is_some_and(|new| new != old);
    let new_email = profile
        .email
        .as_ref()
        .map(|e| e.as_str())
        .filter(|e| Some(*e) != current.pending_email.as_deref());
    differs(
        profile.username.as_ref().map(|v| v.as_str()),
        &current.username,
    ) || differs(new_email, &current.email)
        || differs(profile.mobile.as_ref().map(|v| v.as_str()), &current.mobile)
        || differs(
            profile.security_question.as_ref().map(|v| v.as_str()),
            current.security_question.as_deref().unwrap_or_default(),
        )
        || profile.security_answer.is_some()
}

/// Applies `update` to account `id` in one transaction. Demoting the last admin is
/// refused; a role or password change ends every session of the account.
pub async fn update(
    db: &DatabaseConnection,
    id: i32,
    update: Update,
) -> Result<Updated, AccountError> {
    db::retry_conflicts(|| update_once(db, id, update.clone())).await
}

/// One attempt at [`update`], from locking the row to the commit.
async fn update_once(
    db: &DatabaseConnection,
    id: i32,
    update: Update,
) -> Result<Updated, AccountError> {
    let demotes = update.role.is_some_and(|r| r != Role::Admin);
    let (txn, current) = admins::lock_for_change(db, id, update.role.is_some(), demotes).await?;
    if let Some(expected) = &update.if_match {
        expected.check(&current)?;
    }
    if let Some(reset) = &update.recovery_reset
        && !recovery_flows::spend_reset(&txn, id, reset).await?
    {
        return Err(AccountError::WrongCode);
    }
    let new_password = update.password_hash.is_some();
    let ends_sessions = update.role.is_some_and(|r| r != current.role) || new_password;
    let unique = unique_after(&current, &update.profile);
    let before = current.clone();
    let updated = match apply(current, update).update(&txn).await {
        Ok(updated) => updated,
        Err(err) => {
            let _ = txn.rollback().await;
            return Err(explain_duplicates(db, err, &unique, Some(id)).await);
        }
    };
    if ends_sessions {
        session::revoke_all(&txn, id).await?;
    }
    if new_password {
        // The account's own count is reset by `apply`; the devices' here.
        lockout::clear_devices(&txn, id).await?;
    }
    if search::changes_terms(&before, &updated) {
        search::reindex(&txn, std::slice::from_ref(&updated)).await?;
    }
    let changed = changed_fields(&before, &updated);
    // A code or token from a recovery started before must not outlive the password,
    // the address or the answer it would get around.
    if changed
        .iter()
        .any(|f| matches!(*f, "password" | "pending_email" | "security_answer"))
    {
        recovery_flows::cancel(&txn, id).await?;
    }
    for (event, happened) in [
        (
            WebhookEventType::UserRoleChanged,
            before.role != updated.role,
        ),
        (WebhookEventType::UserPasswordChanged, new_password),
        (
            WebhookEventType::UserUpdated,
            changed.iter().any(|f| !matches!(*f, "role" | "password")),
        ),
    ] {
        if happened {
            announce(&txn, event, &updated).await?;
        }
    }
    txn.commit().await?;
    Ok(Updated {
        previous_role: before.role,
        changed,
        user: updated,
        before,
    })
}

/// The unique values account `current` will have once `profile` is applied.
fn unique_after(current: &user::Model, profile: &ProfileChanges) -> UniqueValues {
    let pick = |new: Option<&str>, old: &str| new.unwrap_or(old).to_owned();
    UniqueValues {
        username: pick(
            profile.username.as_ref().map(|v| v.as_str()),
            &current.username,
        ),
        email: current.email.clone(),
        mobile: pick(profile.mobile.as_ref().map(|v| v.as_str()), &current.mobile),
    }
}

fn apply(current: user::Model, update: Update) -> user::ActiveModel {
    let current_email = current.email.clone();
    let mut model = current.into_active_model();
    let p = update.profile;
    if let Some(v) = p.first_name {
        model.first_name = Set(v.into_inner());
    }
    if let Some(v) = p.last_name {
        model.last_name = Set(v.into_inner());
    }
    if let Some(v) = p.username {
        model.username = Set(v.into_inner());
    }
    // A new address waits for its code (see `email::verify`); asking for the
    // current one again withdraws a pending change.
    if let Some(v) = p.email {
        let pending = (v.as_str() != current_email).then(|| v.into_inner());
        model.pending_email = Set(pending);
    }
    if let Some(v) = p.mobile {
        model.mobile = Set(v.into_inner());
    }
    if let Some(v) = p.security_question {
        model.security_question = Set(Some(v.into_inner()));
    }
    if let Some(hash) = update.security_answer_hash {
        model.security_answer_hash = Set(Some(hash));
    }
    if let Some(role) = update.role {
        model.role = Set(role);
    }
    if let Some(hash) = update.password_hash {
        model.password_hash = Set(hash);
        // A new password (reset, admin, change) starts with a clean slate.
        model.failed_logins = Set(0);
        model.locked_until = Set(None);
    }
    model.updated_at = Set(now());
    model
}

fn changed_fields(before: &user::Model, after: &user::Model) -> Vec<&'static str> {
    [
        ("first_name", before.first_name != after.first_name),
        ("last_name", before.last_name != after.last_name),
        ("username", before.username != after.username),
        ("email", before.email != after.email),
        ("pending_email", before.pending_email != after.pending_email),
        ("mobile", before.mobile != after.mobile),
        (
            "security_question",
            before.security_question != after.security_question,
        ),
        (
            "security_answer",
            before.security_answer_hash != after.security_answer_hash,
        ),
        ("role", before.role != after.role),
        ("password", before.password_hash != after.password_hash),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect()
}

/// Deletes account `id` (its sessions go with it), unless it is the last admin or
/// no longer at a version `if_match` names. Returns the account as it was.
pub async fn delete(
    db: &DatabaseConnection,
    id: i32,
    if_match: Option<&IfMatch>,
) -> Result<user::Model, AccountError> {
    let (txn, current) = admins::lock_for_change(db, id, true, true).await?;
    if let Some(expected) = if_match {
        expected.check(&current)?;
    }
    session::revoke_all(&txn, id).await?;
    user::Entity::delete_by_id(id).exec(&txn).await?;
    announce(&txn, WebhookEventType::UserDeleted, &current).await?;
    txn.commit().await?;
    Ok(current)
}

/// Disables account `id` (ending its sessions) or enables it again. The last active
/// admin cannot be disabled. Returns the account and whether anything changed.
pub async fn set_disabled(
    db: &DatabaseConnection,
    id: i32,
    disabled: bool,
) -> Result<(user::Model, bool), AccountError> {
    let (txn, current) = admins::lock_for_change(db, id, true, disabled).await?;
    if disabled == current.disabled_at.is_some() {
        txn.commit().await?;
        return Ok((current, false));
    }
    let mut model = current.into_active_model();
    model.disabled_at = Set(disabled.then(now));
    model.updated_at = Set(now());
    let updated = model.update(&txn).await?;
    if disabled {
        session::revoke_all(&txn, id).await?;
    }
    let event = match disabled {
        true => WebhookEventType::UserDisabled,
        false => WebhookEventType::UserEnabled,
    };
    announce(&txn, event, &updated).await?;
    txn.commit().await?;
    Ok((updated, true))
}

/// Lifts a lockout of account `id` and restarts its failure count. Returns the
/// account as it is now and whether it was locked.
pub async fn unlock(db: &DatabaseConnection, id: i32) -> Result<(user::Model, bool), AccountError> {
    let mut user = get(db, id).await?;
    let was_locked = lockout::is_locked(&user, Utc::now());
    lockout::clear_all(db, user.id).await?;
    user.failed_logins = 0;
    user.locked_until = None;
    Ok((user, was_locked))
}
