//! Who may do what to an account, and what they see of it: the rules in one place.
//! Admin-only operations are guarded by the HTTP layer's `AdminUser`; these are the
//! finer rules inside the operations everyone may call.

use shared::{Role, UpdateUserRequest, User};

use super::AccountError;
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

/// `user` as `viewer` may see it: whether it is locked or disabled is for admins and
/// the account itself (others could time their guesses to a lock's end).
pub fn shown_to(viewer: &user::Model, mut user: User) -> User {
    if viewer.role != Role::Admin && viewer.id != user.id {
        user.locked_until = None;
        user.disabled_at = None;
    }
    user
}
