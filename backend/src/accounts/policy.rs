//! Who may do what to an account, and what they see of it: the rules in one place.
//! Admin-only operations are guarded by the HTTP layer's `AdminUser`; these are the
//! finer rules inside the operations everyone may call.

use shared::{
    DirectoryVisibility, FieldErrors, ListUsers, ProfileChanges, Role, SortKey, UpdateUserRequest,
    User,
};

use super::{AccountError, ListScope, touches_contact_or_recovery};
use crate::db::entity::user;

/// `actor` asks to change account `target_id` with `request`. Admins may change any
/// account and any field; everyone else only their own profile, never a role, and
/// their password only through `POST /auth/password` (which asks for the current one).
pub fn check_update(
    actor: &user::Model,
    target_id: i32,
    request: &UpdateUserRequest,
) -> Result<(), AccountError> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    if target_id != actor.id {
        return Err(AccountError::NotAllowed(
            "You may only change your own account.",
        ));
    }
    if request.role.is_some_and(|role| role != actor.role) {
        return Err(AccountError::NotAllowed("You cannot change your own role."));
    }
    if request.password.is_some() {
        return Err(AccountError::NotAllowed(
            "Change your password with POST /api/v1/auth/password.",
        ));
    }
    Ok(())
}

/// `actor` asks to set or remove account `target_id`'s picture: their own, or
/// (admins) anyone's.
pub fn check_picture(actor: &user::Model, target_id: i32) -> Result<(), AccountError> {
    if actor.role == Role::Admin || actor.id == target_id {
        return Ok(());
    }
    Err(AccountError::NotAllowed(
        "You may only change your own picture.",
    ))
}

/// An admin asks to disable account `target_id`: never their own (they would lock
/// themselves out mid-task).
pub fn check_disable(actor: &user::Model, target_id: i32) -> Result<(), AccountError> {
    if target_id == actor.id {
        return Err(AccountError::Conflict(
            "You cannot disable your own account.",
        ));
    }
    Ok(())
}

/// Whether `actor` changing account `target` this way must prove it is them with the
/// current password: their own username, address, mobile, security question or
/// answer, or (an admin) their own password. A stolen session alone must not be
/// able to move an account to another inbox or phone.
pub fn needs_current_password(
    actor: &user::Model,
    target: &user::Model,
    profile: &ProfileChanges,
    sets_password: bool,
) -> bool {
    actor.id == target.id && (sets_password || touches_contact_or_recovery(target, profile))
}

/// The message for a change that needs the current password and came without it.
pub fn current_password_required() -> AccountError {
    AccountError::Invalid(FieldErrors::from([(
        "current_password".to_owned(),
        "is required to change your username, email, mobile, security question or password"
            .to_owned(),
    )]))
}

/// What `viewer` may list: everything for admins; for others, what the directory
/// setting shows, and no search or sort on fields they cannot see.
pub fn list_scope(
    viewer: &user::Model,
    directory: DirectoryVisibility,
    params: &ListUsers,
) -> Result<ListScope, AccountError> {
    if viewer.role == Role::Admin || directory == DirectoryVisibility::Full {
        return Ok(ListScope::default());
    }
    if matches!(params.sort.key, SortKey::Email | SortKey::LastLoginAt) {
        return Err(AccountError::Invalid(FieldErrors::from([(
            "sort".to_owned(),
            "must be one of username, created_at, optionally prefixed with -".to_owned(),
        )])));
    }
    Ok(ListScope {
        names_only: true,
        only: (directory == DirectoryVisibility::None).then_some(viewer.id),
    })
}

/// Whether `viewer` may see account `id` at all.
pub fn may_see(viewer: &user::Model, directory: DirectoryVisibility, id: i32) -> bool {
    viewer.role == Role::Admin || viewer.id == id || directory != DirectoryVisibility::None
}

/// `user` as `viewer` may see it. Admins and the account itself see everything.
/// Others never see the account state (they could time their guesses to a lock's
/// end) or the email state, and contact data and last login only when the
/// directory shows everything.
pub fn shown_to(viewer: &user::Model, directory: DirectoryVisibility, mut user: User) -> User {
    if viewer.role == Role::Admin || viewer.id == user.id {
        return user;
    }
    user.locked_until = None;
    user.disabled_at = None;
    user.email_verified = None;
    user.pending_email = None;
    user.mfa = None;
    if directory != DirectoryVisibility::Full {
        user.email = None;
        user.mobile = None;
        user.last_login_at = None;
    }
    user
}
