//! Confirm your email address with the 6-digit code mailed to it (after sign-up, and
//! for each new address); until then the old address, if any, stays in use.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{FieldErrors, User, VerifyEmailRequest};

use crate::api;
use crate::components::email_state::EmailState;
use crate::components::form::{Field, SubmitButton};
use crate::components::icons::{Icon, IconName};
use crate::components::resend::{Cooldown, ResendButton};
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};
use crate::session::use_session;

/// What the screen says about `state`: where the code went, or that none is needed.
fn explain(state: &EmailState) -> String {
    match state {
        EmailState::Verified { email } => format!("Your address {email} is verified."),
        EmailState::Unverified { email } => {
            format!("We sent a 6-digit code to {email}. Enter it to confirm the address.")
        }
        EmailState::Pending { email, pending } => format!(
            "We sent a 6-digit code to {pending}. Enter it to make it your address; until then {email} stays in use."
        ),
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let session = use_session();
    let state = Memo::new(move |_| session.user.with(|u| u.as_ref().and_then(EmailState::of)));
    let awaiting = move || state.with(|s| s.as_ref().is_some_and(|s| s.awaiting().is_some()));
    view! {
        <section class="page narrow">
            <h1><Icon name=IconName::Mail/>" Confirm your email address"</h1>
            <div class="card">
                {move || state.get().map(|s| view! {
                    <p data-testid="email-state" data-state=s.as_str()>{explain(&s)}</p>
                })}
                <Show when=awaiting fallback=|| view! {
                    <p class="links"><A href="/profile">"Back to my profile"</A></p>
                }>
                    <CodeForm/>
                </Show>
            </div>
        </section>
    }
}

#[component]
fn CodeForm() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let code = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let failure = RwSignal::new(None::<String>);
    let verify = use_form_action(
        errors,
        Failure::Alert(failure),
        |request: VerifyEmailRequest| async move { api::verify_email(&request).await },
        move |user: User| {
            let email = user.email.clone().unwrap_or_default();
            session.user.set(Some(user));
            toasts.success(format!("Thank you: {email} is confirmed."));
        },
    );
    let on_submit = verify.on_submit(move || {
        let request = VerifyEmailRequest {
            code: code.get_untracked(),
        };
        request.validate().map(|_| request)
    });
    view! {
        <form on:submit=on_submit data-testid="verify-form" novalidate>
            {move || failure.get().map(|f| view! { <p class="alert" role="alert" data-testid="verify-error">{f}</p> })}
            <Field label="Code" name="code" value=code errors=errors autocomplete="one-time-code" required=true
                hint="The 6 digits from the email"/>
            <div class="actions">
                <SubmitButton label="Confirm address" pending=verify.pending() testid="verify-submit"/>
                <ResendCode/>
            </div>
        </form>
    }
}

/// Mails a new code to the address waiting for one (the old code stops working).
#[component]
fn ResendCode() -> impl IntoView {
    let toasts = use_toasts();
    let cooldown = Cooldown::new();
    let resend = Action::new_local(move |_: &()| async move {
        match api::resend_email_code().await {
            Ok(answer) => {
                cooldown.start();
                toasts.success(answer.message);
            }
            Err(e) => toasts.error(e.message()),
        }
    });
    view! {
        <ResendButton cooldown=cooldown busy=resend.pending() testid="resend-email-code"
            on_resend=Callback::new(move |()| { resend.dispatch(()); })/>
    }
}
