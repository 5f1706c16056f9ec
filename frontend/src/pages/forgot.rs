//! Forgot password: identify the account -> enter the emailed code -> answer the
//! security question -> choose a new password -> back to login.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::FieldErrors;

use crate::components::icons::{Icon, IconName};
use crate::components::recovery::{RecoveryForm, Step, Submission, send};
use crate::components::recovery_steps::StepFields;
use crate::components::resend::Cooldown;
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};

#[component]
pub fn ForgotPage() -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let step = RwSignal::new(Step::Identify);
    let form = RecoveryForm::new();
    let errors = RwSignal::new(FieldErrors::new());
    let failure = RwSignal::new(None::<String>);
    let cooldown = Cooldown::new();
    let recover = use_form_action(
        errors,
        Failure::Alert(failure),
        send,
        move |next| match next {
            Some(code @ Step::Code { .. }) => {
                cooldown.start();
                step.set(code);
                toasts.success("If an account matches, a code is on its way to its email address.");
            }
            Some(next) => step.set(next),
            None => {
                toasts.success("Password changed. Log in with your new password.");
                navigate("/login?notice=reset", Default::default());
            }
        },
    );
    let on_submit = recover.on_submit(move || form.submission(step.get_untracked()));
    let on_resend =
        Callback::new(move |()| recover.dispatch(Submission::Identify(form.forgot_request())));
    let pending = recover.pending();

    view! {
        <main class="auth-page" id="main" tabindex="-1">
            <form class="card auth-card" on:submit=on_submit data-testid="forgot-form" novalidate>
                <h1><Icon name=IconName::Key/>" Recover your password"</h1>
                {move || failure.get().map(|f| view! { <p class="alert" role="alert" data-testid="forgot-error">{f}</p> })}
                {move || view! {
                    <StepFields step=step.get() form=form errors=errors pending=pending cooldown=cooldown on_resend=on_resend/>
                }}
                <p class="links"><A href="/login">"Back to log in"</A></p>
            </form>
        </main>
    }
}
