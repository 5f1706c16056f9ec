//! Pieces shared by several pages.

pub mod audit;
pub mod confirm;
pub mod form;
pub mod icons;
pub mod layout;
pub mod toast;
