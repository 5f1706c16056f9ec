//! One module per screen.

pub mod audit;
pub mod forgot;
pub mod login;
pub mod not_found;
pub mod profile;
pub mod sessions;
pub mod signup;
pub mod user_form;
pub mod users;
