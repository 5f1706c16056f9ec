//! One module per screen.

pub mod forgot;
pub mod login;
pub mod not_found;
pub mod profile;
pub mod signup;
pub mod user_form;
pub mod users;
