//! Where an account's email address stands (verified, not yet, or a new one waiting
//! for its code): a line under the address on the profile and an account's page, and
//! the banner that reminds the signed-in user while a code is outstanding.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;
use shared::User;

use crate::components::icons::{Icon, IconName};
use crate::session::use_session;

/// The screen where codes are entered.
pub const VERIFY_PATH: &str = "/verify-email";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailState {
    Verified {
        email: String,
    },
    /// No code has come back from the account's address yet.
    Unverified {
        email: String,
    },
    /// A new address waits for its code; `email` stays in use until then.
    Pending {
        email: String,
        pending: String,
    },
}

impl EmailState {
    /// `None` when the viewer may not see it (other users see no email state).
    pub fn of(user: &User) -> Option<Self> {
        let email = user.email.clone()?;
        let verified = user.email_verified?;
        Some(match (&user.pending_email, verified) {
            (Some(pending), _) => Self::Pending {
                email,
                pending: pending.clone(),
            },
            (None, true) => Self::Verified { email },
            (None, false) => Self::Unverified { email },
        })
    }

    /// The address the last code went to, while one is awaited.
    pub fn awaiting(&self) -> Option<&str> {
        match self {
            Self::Verified { .. } => None,
            Self::Unverified { email } => Some(email),
            Self::Pending { pending, .. } => Some(pending),
        }
    }

    /// For `data-state`, so tests need not read sentences.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Verified { .. } => "verified",
            Self::Unverified { .. } => "unverified",
            Self::Pending { .. } => "pending",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Verified { email } => format!("{email} is verified."),
            Self::Unverified { email } => format!("{email} is not verified yet."),
            Self::Pending { email, pending } => {
                format!("{pending} is waiting for its code; until then {email} stays in use.")
            }
        }
    }
}

/// The address `after` asked for that `before` did not: a code went out to it.
pub fn newly_requested<'a>(before: &User, after: &'a User) -> Option<&'a str> {
    after
        .pending_email
        .as_deref()
        .filter(|pending| before.pending_email.as_deref() != Some(*pending))
}

/// The state of `user`'s address, when the viewer may see it.
#[component]
pub fn EmailStatus(#[prop(into)] user: Signal<Option<User>>) -> impl IntoView {
    let state = Memo::new(move |_| user.with(|u| u.as_ref().and_then(EmailState::of)));
    move || {
        state.get().map(|state| {
            view! {
                <p class="hint email-state" data-testid="email-state" data-state=state.as_str()>
                    {state.describe()}
                </p>
            }
        })
    }
}

/// While the signed-in user's address awaits its code: a reminder and the way to the
/// code form (which says the same, so the banner leaves it out).
#[component]
pub fn VerifyBanner() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let awaiting = Memo::new(move |_| {
        session.user.with(|u| {
            u.as_ref()
                .and_then(EmailState::of)
                .and_then(|s| s.awaiting().map(str::to_owned))
        })
    });
    let shown = move || {
        awaiting
            .get()
            .filter(|_| location.pathname.with(|p| p != VERIFY_PATH))
    };
    move || {
        shown().map(|address| {
            view! {
                <div class="banner" role="status" data-testid="verify-banner">
                    <Icon name=IconName::Mail/>
                    <span>"Confirm your email address: we sent a code to "<strong>{address}</strong>"."</span>
                    <A href=VERIFY_PATH attr:class="button small" attr:data-testid="verify-link">"Enter the code"</A>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use shared::Role;

    use super::*;

    fn user(email: Option<&str>, verified: Option<bool>, pending: Option<&str>) -> User {
        let now = Utc::now();
        User {
            id: 1,
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            username: "ada".into(),
            email: email.map(str::to_owned),
            email_verified: verified,
            pending_email: pending.map(str::to_owned),
            mobile: None,
            role: Role::User,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            disabled_at: None,
            locked_until: None,
            avatar_url: None,
            mfa: None,
        }
    }

    #[test]
    fn the_state_follows_the_fields() {
        let old = "ada@example.com";
        let verified = EmailState::of(&user(Some(old), Some(true), None)).unwrap();
        assert_eq!(verified.awaiting(), None);
        assert_eq!(verified.describe(), "ada@example.com is verified.");
        let unverified = EmailState::of(&user(Some(old), Some(false), None)).unwrap();
        assert_eq!(unverified.awaiting(), Some(old));
        let pending = EmailState::of(&user(Some(old), Some(true), Some("new@example.com")));
        assert_eq!(
            pending.as_ref().unwrap().awaiting(),
            Some("new@example.com")
        );
        assert_eq!(
            pending.unwrap().describe(),
            "new@example.com is waiting for its code; until then ada@example.com stays in use."
        );
    }

    #[test]
    fn hidden_fields_mean_no_state() {
        assert_eq!(EmailState::of(&user(None, None, None)), None);
        assert_eq!(EmailState::of(&user(Some("a@b.example"), None, None)), None);
    }

    #[test]
    fn only_a_new_pending_address_counts_as_requested() {
        let before = user(Some("a@example.com"), Some(true), None);
        let after = user(Some("a@example.com"), Some(true), Some("b@example.com"));
        assert_eq!(newly_requested(&before, &after), Some("b@example.com"));
        assert_eq!(newly_requested(&after, &after), None);
        assert_eq!(newly_requested(&after, &before), None);
    }
}
