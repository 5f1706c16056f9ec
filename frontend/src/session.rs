//! Who is logged in, shared by every screen through context.

use leptos::prelude::*;
use shared::{Role, User};

#[derive(Clone, Copy)]
pub struct Session {
    /// The logged-in account; `None` when signed out.
    pub user: RwSignal<Option<User>>,
    /// Whether the first `GET /auth/session` has answered (route guards wait for it).
    pub ready: RwSignal<bool>,
    /// Set when a call found the session gone; the login page then says so.
    pub expired: RwSignal<bool>,
    /// The account must set up a second factor (`MFA_REQUIRED`) before anything else:
    /// the frame shows only the enrolment.
    pub must_enrol: RwSignal<bool>,
}

impl Session {
    pub fn new() -> Self {
        Self {
            user: RwSignal::new(None),
            ready: RwSignal::new(false),
            expired: RwSignal::new(false),
            must_enrol: RwSignal::new(false),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user
            .with(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin))
    }

    /// Takes in what `GET /auth/session` said.
    pub fn set_state(&self, state: shared::SessionState) {
        // Only a change redraws the frame (and the page in it).
        if self.must_enrol.get_untracked() != state.mfa_enrolment_required {
            self.must_enrol.set(state.mfa_enrolment_required);
        }
        self.user.set(state.user);
    }

    pub fn user_id(&self) -> Option<i32> {
        self.user.with(|u| u.as_ref().map(|u| u.id))
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// The current path and query, to come back to after logging in.
pub fn current_location() -> String {
    let location = window().location();
    format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    )
}
