//! One module per screen.

pub mod api_keys;
pub mod audit;
pub mod edit_user;
pub mod forgot;
pub mod import;
pub mod invitations;
pub mod login;
pub mod new_user;
pub mod not_found;
pub mod profile;
pub mod sessions;
pub mod signup;
pub mod users;
pub mod verify_email;
pub mod webhooks;
