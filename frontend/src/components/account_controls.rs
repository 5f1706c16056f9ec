//! What an admin can do to an account besides editing it: disable or enable it,
//! unlock it after failed logins (for unknown clients and on each device), end its
//! sessions, reset its second factors.

use leptos::prelude::*;
use shared::User;

use crate::api;
use crate::components::lockout::{LockoutView, any_device_locked};
use crate::components::toast::use_toasts;
use crate::format;

#[derive(Debug, Clone, Copy)]
pub enum Control {
    Disable,
    Enable,
    Unlock,
    EndSessions,
    ResetMfa,
}

impl Control {
    fn done(self, username: &str) -> String {
        match self {
            Control::Disable => format!("Disabled {username}; their sessions ended."),
            Control::Enable => format!("Enabled {username}."),
            Control::Unlock => format!("Unlocked {username}."),
            Control::EndSessions => format!("Ended the sessions of {username}."),
            Control::ResetMfa => format!("Reset the two-factor sign-in of {username}."),
        }
    }
}

/// One account as the controls leave it, and the action that applies a control (its
/// version moves with each one, for whatever shows the account's history).
#[derive(Clone, Copy)]
pub struct AccountControl {
    account: RwSignal<User>,
    action: Action<Control, ()>,
}

impl AccountControl {
    pub fn new(user: User) -> Self {
        let toasts = use_toasts();
        let account = RwSignal::new(user);
        let action = Action::new_local(move |what: &Control| {
            let what = *what;
            let id = account.with_untracked(|u| u.id);
            async move {
                let result = match what {
                    Control::Disable => api::disable_user(id).await.map(Some),
                    Control::Enable => api::enable_user(id).await.map(Some),
                    Control::Unlock => api::unlock_user(id).await.map(Some),
                    Control::ResetMfa => match api::reset_user_mfa(id).await {
                        Ok(()) => api::get_user_versioned(id)
                            .await
                            .map(|(user, _)| Some(user)),
                        Err(e) => Err(e),
                    },
                    Control::EndSessions => api::revoke_user_sessions(id).await.map(|done| {
                        toasts.success(format!("Ended {} session(s).", done.revoked));
                        None
                    }),
                };
                match result {
                    Ok(Some(user)) => {
                        toasts.success(what.done(&user.username));
                        account.set(user);
                    }
                    Ok(None) => {}
                    Err(e) => toasts.error(e.message()),
                }
            }
        });
        Self { account, action }
    }

    pub fn version(&self) -> RwSignal<usize> {
        self.action.version()
    }
}

#[component]
pub fn AccountControls(control: AccountControl) -> impl IntoView {
    let AccountControl { account, action } = control;
    let id = account.with_untracked(|u| u.id);
    let version = action.version();
    // Reloaded after each control: an unlock lifts the devices' locks too, and any
    // control may meet a lock that changed meanwhile.
    let lockout = LocalResource::new(move || {
        version.track();
        api::user_lockout(id)
    });
    let device_locked = move || {
        lockout
            .get()
            .is_some_and(|state| state.is_ok_and(|state| any_device_locked(&state)))
    };
    let status = move || {
        let device_locked = device_locked();
        account.with(|u| match (&u.disabled_at, &u.locked_until) {
            (Some(at), _) => format!("Disabled since {}", format::time(*at)),
            // Which clients are refused, and until when, the lockout below says.
            (None, Some(_)) => "Locked after failed logins".to_owned(),
            (None, None) if device_locked => {
                "Active; a device is locked after failed logins".to_owned()
            }
            (None, None) => "Active".to_owned(),
        })
    };
    let disabled = move || account.with(|u| u.disabled_at.is_some());
    let locked = move || account.with(|u| u.locked_until.is_some()) || device_locked();
    let has_mfa = move || account.with(|u| u.mfa.is_some_and(|m| m.enabled()));
    let pending = action.pending();
    let busy = move || pending.get();
    view! {
        <section class="card controls" data-testid="account-controls">
            <h2>"Account"</h2>
            <p data-testid="account-status">{status}</p>
            <LockoutView lockout=lockout/>
            <div class="actions">
                <Show when=locked>
                    <button type="button" class="button" data-testid="unlock-user" disabled=busy
                        on:click=move |_| { action.dispatch(Control::Unlock); }>"Unlock"</button>
                </Show>
                <Show when=disabled fallback=move || view! {
                    <button type="button" class="button danger" data-testid="disable-user" disabled=busy
                        on:click=move |_| { action.dispatch(Control::Disable); }>"Disable"</button>
                }>
                    <button type="button" class="button" data-testid="enable-user" disabled=busy
                        on:click=move |_| { action.dispatch(Control::Enable); }>"Enable"</button>
                </Show>
                <button type="button" class="button" data-testid="end-sessions" disabled=busy
                    on:click=move |_| { action.dispatch(Control::EndSessions); }>"End all sessions"</button>
                <Show when=has_mfa>
                    <button type="button" class="button danger" data-testid="reset-mfa" disabled=busy
                        on:click=move |_| { action.dispatch(Control::ResetMfa); }>"Reset two-factor sign-in"</button>
                </Show>
            </div>
        </section>
    }
}
