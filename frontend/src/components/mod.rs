//! Pieces shared by several pages.

pub mod confirm;
pub mod form;
pub mod icons;
pub mod layout;
pub mod toast;
