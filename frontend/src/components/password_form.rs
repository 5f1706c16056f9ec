//! Changing one's own password: the current one, then the new one with the strength
//! meter. The server signs out the account's other sessions.

use leptos::prelude::*;
use shared::{ChangePasswordRequest, FieldErrors};

use crate::api;
use crate::components::form::{Field, StrengthMeter, SubmitButton};
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};
use crate::session::use_session;

/// `user_inputs`: words from the account that a good password avoids.
#[component]
pub fn PasswordForm(user_inputs: Signal<Vec<String>>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let change = use_form_action(
        errors,
        Failure::Toast,
        |request: ChangePasswordRequest| async move { api::change_password(&request).await },
        move |()| {
            current.set(String::new());
            new_password.set(String::new());
            toasts.success("Password changed. Your other sessions were signed out.");
        },
    );
    let on_submit = change.on_submit(move || {
        let request = ChangePasswordRequest {
            current_password: current.get_untracked(),
            new_password: new_password.get_untracked(),
        };
        // Signed out meanwhile: nothing to check against, and the route guard is
        // already leaving this page.
        session.user.with_untracked(move |me| match me {
            Some(me) => request.validate(me).map(|_| request),
            None => Err(FieldErrors::new()),
        })
    });
    view! {
        <form class="card" on:submit=on_submit data-testid="password-form" novalidate>
            <h2>"Change password"</h2>
            <Field label="Current password" name="current_password" id="password-current" value=current
                errors=errors kind="password" autocomplete="current-password" required=true/>
            <Field label="New password" name="new_password" value=new_password errors=errors
                kind="password" autocomplete="new-password" required=true advised=true/>
            <StrengthMeter password=new_password user_inputs=user_inputs/>
            <div class="actions">
                <SubmitButton label="Change password" pending=change.pending() testid="change-password"/>
            </div>
        </form>
    }
}
