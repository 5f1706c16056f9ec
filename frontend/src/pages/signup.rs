//! Create an account (open to anyone); then log in.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::{FieldErrors, SignupRequest};

use crate::api;
use crate::components::account_fields::{AccountFields, AccountForm};
use crate::components::form::SubmitButton;
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};

#[component]
pub fn SignupPage() -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let form = AccountForm::new();
    let errors = RwSignal::new(FieldErrors::new());
    let signup = use_form_action(
        errors,
        Failure::Toast,
        |request: SignupRequest| async move { api::signup(&request).await },
        move |_| {
            toasts.success("Account created. You can log in now.");
            navigate("/login?notice=created", Default::default());
        },
    );
    let on_submit = signup.on_submit(move || {
        let request = form.request();
        request.validate().map(|_| request)
    });
    view! {
        <div class="auth-page">
            <form class="card auth-card wide" on:submit=on_submit data-testid="signup-form" novalidate>
                <h1>"Create an account"</h1>
                <AccountFields form=form errors=errors/>
                <SubmitButton label="Create account" pending=signup.pending() testid="signup-submit"/>
                <p class="links">"Already registered? "<A href="/login">"Log in"</A></p>
            </form>
        </div>
    }
}
