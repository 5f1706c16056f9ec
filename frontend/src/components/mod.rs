//! Pieces shared by several pages, or taken out of one to keep it short.

pub mod account_controls;
pub mod account_fields;
pub mod admission;
pub mod async_view;
pub mod audit;
pub mod audit_filters;
pub mod avatar;
pub mod bulk;
pub mod confirm;
pub mod email_state;
pub mod form;
pub mod icons;
pub mod layout;
pub mod lockout;
pub mod mfa;
pub mod pager;
pub mod passkeys;
pub mod password_form;
pub mod recovery;
pub mod recovery_steps;
pub mod resend;
pub mod timeline;
pub mod toast;
pub mod user_filters;
pub mod user_table;
