//! What `PUT /auth/me` and `PUT /users/{id}` share: re-authentication for one's own
//! contact and recovery fields, the update itself, the new address's code and the
//! notices, and the audit trail. Also the verification code any new account gets,
//! and what `/users/{id}` and `/users/bulk` share: disabling, enabling and deleting.

use actix_web::web;
use secrecy::SecretString;
use serde_json::json;
use shared::{AuditAction, User, UserChanges};

use crate::accounts::email::EmailCodes;
use crate::accounts::{self, IfMatch, Updated, policy};
use crate::audit::{self, ClientInfo};
use crate::auth::AuthError;
use crate::db::entity::user;
use crate::http::error::ApiError;
use crate::http::extract::{AdminUser, CurrentUser};
use crate::http::state::AppState;

/// `current` changes account `target` (already allowed by `policy::check_update`).
pub async fn change_account(
    state: &AppState,
    client: &ClientInfo,
    current: &CurrentUser,
    target: &user::Model,
    changes: UserChanges,
    current_password: Option<&str>,
    if_match: Option<IfMatch>,
) -> Result<Updated, ApiError> {
    let actor = &current.user;
    if policy::needs_current_password(actor, target, &changes.profile, changes.password.is_some()) {
        // Only one's own account needs it, so the session's device is the target's.
        let device = current.device_hash.as_deref();
        let action = AuditAction::UserUpdated;
        reauthenticate(state, client, target, device, current_password, action).await?;
    }
    let mut update = accounts::profile_update(&state.auth.passwords, changes.profile).await?;
    update.role = changes.role;
    update.if_match = if_match;
    if let Some(password) = changes.password {
        let secret = SecretString::from(password.into_inner());
        update.password_hash = Some(state.auth.passwords.hash(secret).await?);
    }
    let updated = accounts::update(&state.db, target.id, update).await?;
    if let Some(address) = updated.requested_email() {
        state
            .notices
            .email_change_requested(&state.db, &updated.user, address, client)
            .await;
        send_email_code(state, client, &updated.user, address).await?;
    }
    record_update(state, client, actor, &updated).await;
    Ok(updated)
}

/// The current password, checked like a login from the session's device (a wrong
/// one counts toward that device's lockout, and is in the audit trail as a failed
/// `action`).
pub(super) async fn reauthenticate(
    state: &AppState,
    client: &ClientInfo,
    user: &user::Model,
    device_hash: Option<&str>,
    password: Option<&str>,
    action: AuditAction,
) -> Result<(), ApiError> {
    let password = password
        .filter(|p| !p.is_empty())
        .ok_or_else(policy::current_password_required)?;
    match state
        .auth
        .verify_current_password(user, device_hash, password)
        .await
    {
        Err(AuthError::WrongCurrentPassword) => {
            audit::Event::failure(action)
                .by(user)
                .detail(json!({ "reason": "wrong_current_password" }))
                .record(&state.db, client)
                .await;
            Err(AuthError::WrongCurrentPassword.into())
        }
        other => Ok(other?),
    }
}

/// Mails `user` a code for `address`, unless the hourly budget is spent. When the
/// address is another account's, its holder is told instead, and the answer is the
/// same, so no one learns whose address it is.
pub async fn send_email_code(
    state: &AppState,
    client: &ClientInfo,
    user: &user::Model,
    address: &str,
) -> Result<(), ApiError> {
    let Some(code) = state.email_codes.issue(&state.db, user.id, address).await? else {
        tracing::info!(
            user_id = user.id,
            "email code mail limit reached; none sent"
        );
        return Ok(());
    };
    match accounts::find_by_email(&state.db, address).await? {
        Some(holder) if holder.id != user.id => {
            state
                .notices
                .address_in_use(&state.db, &holder, client)
                .await;
        }
        _ => {
            state
                .notices
                .email_code(&state.db, user, address, &code)
                .await
        }
    }
    Ok(())
}

/// A new account's first code, unless its address is proved already.
pub async fn welcome(
    state: &AppState,
    client: &ClientInfo,
    user: &user::Model,
) -> Result<(), ApiError> {
    match EmailCodes::address_to_prove(user) {
        Some(address) => send_email_code(state, client, user, address).await,
        None => Ok(()),
    }
}

/// Audits a change: the changed fields, and a role change as its own event.
async fn record_update(
    state: &AppState,
    client: &ClientInfo,
    actor: &user::Model,
    updated: &Updated,
) {
    let fields: Vec<&str> = updated
        .changed
        .iter()
        .copied()
        .filter(|field| *field != "role")
        .collect();
    if !fields.is_empty() {
        audit::Event::success(AuditAction::UserUpdated)
            .actor(actor)
            .target(&updated.user)
            .detail(json!({ "fields": fields }))
            .record(&state.db, client)
            .await;
    }
    if updated.requested_email().is_some() {
        audit::Event::success(AuditAction::EmailChangeRequested)
            .actor(actor)
            .target(&updated.user)
            .record(&state.db, client)
            .await;
    }
    if updated.role_changed() {
        audit::Event::success(AuditAction::RoleChanged)
            .actor(actor)
            .target(&updated.user)
            .detail(json!({ "from": updated.previous_role, "to": updated.user.role }))
            .record(&state.db, client)
            .await;
    }
}

/// Records that `admin` deleted `account`.
pub async fn deleted(
    state: &AppState,
    client: &ClientInfo,
    admin: &AdminUser,
    account: &user::Model,
) {
    audit::Event::success(AuditAction::UserDeleted)
        .actor(&admin.user)
        .target(account)
        .record(&state.db, client)
        .await;
}

/// Disables or enables account `id`, recording it when that changed something.
pub async fn set_disabled(
    state: &AppState,
    client: &ClientInfo,
    admin: &AdminUser,
    id: i32,
    disabled: bool,
) -> Result<web::Json<User>, ApiError> {
    let (user, changed) = accounts::set_disabled(&state.db, id, disabled).await?;
    if changed {
        let action = if disabled {
            AuditAction::UserDisabled
        } else {
            AuditAction::UserEnabled
        };
        tracing::info!(target = id, %action, "account status changed");
        audit::Event::success(action)
            .actor(&admin.user)
            .target(&user)
            .record(&state.db, client)
            .await;
    }
    Ok(web::Json(accounts::to_api(user)))
}
