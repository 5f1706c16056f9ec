//! What each step of password recovery shows.

use leptos::prelude::*;
use shared::{FieldErrors, RecoveryMethod};

use crate::components::form::{Field, StrengthMeter, SubmitButton};
use crate::components::icons::{Icon, IconName};
use crate::components::recovery::{RecoveryForm, Step};
use crate::components::resend::{Cooldown, ResendButton};

/// The fields and buttons of `step`; "send a new code" calls `on_resend`.
#[component]
pub fn StepFields(
    step: Step,
    form: RecoveryForm,
    errors: RwSignal<FieldErrors>,
    pending: Signal<bool>,
    cooldown: Cooldown,
    on_resend: Callback<()>,
) -> impl IntoView {
    let RecoveryForm {
        method,
        identifier,
        code,
        answer,
        password,
    } = form;
    match step {
        Step::Identify => view! {
            <fieldset class="methods">
                <legend>"Find my account by"</legend>
                <label><input type="radio" name="method" data-testid="method-email"
                    prop:checked=move || method.get() == RecoveryMethod::Email
                    on:change=move |_| method.set(RecoveryMethod::Email)/>" Email"</label>
                <label><input type="radio" name="method" data-testid="method-mobile"
                    prop:checked=move || method.get() == RecoveryMethod::Mobile
                    on:change=move |_| method.set(RecoveryMethod::Mobile)/>" Mobile number"</label>
            </fieldset>
            <Field label="Email or mobile number" name="identifier" value=identifier errors=errors required=true/>
            <p class="hint">"We email a 6-digit code to the account's address."</p>
            <SubmitButton label="Send code" pending=pending testid="forgot-submit"/>
        }.into_any(),
        Step::Code { .. } => view! {
            <p><Icon name=IconName::Mail/>" Enter the 6-digit code from the email."</p>
            // Only the newest request's code is checked (its request id goes with it).
            <p class="hint">"Asked for a new code? Enter the one from the newest email."</p>
            <Field label="Code" name="otp" value=code errors=errors autocomplete="one-time-code" required=true/>
            <SubmitButton label="Verify code" pending=pending testid="otp-submit"/>
            <ResendButton cooldown=cooldown busy=pending on_resend=on_resend testid="resend-code"/>
        }.into_any(),
        Step::Question { question, .. } => view! {
            <p class="question" data-testid="security-question">{question}</p>
            <Field label="Your answer" name="security_answer" value=answer errors=errors kind="password" required=true/>
            <SubmitButton label="Continue" pending=pending testid="answer-submit"/>
        }.into_any(),
        Step::NewPassword { .. } => view! {
            <Field label="New password" name="new_password" value=password errors=errors kind="password"
                autocomplete="new-password" required=true advised=true/>
            <StrengthMeter password=password user_inputs=Signal::derive(move || vec![identifier.get()])/>
            <SubmitButton label="Set new password" pending=pending testid="reset-submit"/>
        }.into_any(),
    }
}
