//! Forgot password: identify the account -> enter the emailed code -> answer the
//! security question -> choose a new password -> back to login.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::{
    AnswerRequest, FieldErrors, ForgotPasswordRequest, RecoveryMethod, ResetPasswordRequest,
    VerifyOtpRequest,
};

use crate::api;
use crate::components::form::{Field, StrengthMeter, SubmitButton};
use crate::components::icons::{Icon, IconName};
use crate::components::toast::use_toasts;

/// Seconds before another code may be requested.
const RESEND_COOLDOWN: u32 = 30;

#[derive(Clone, PartialEq)]
enum Step {
    Identify,
    Code,
    Question {
        flow_token: String,
        question: String,
    },
    NewPassword {
        reset_token: String,
    },
}

#[component]
pub fn ForgotPage() -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let step = RwSignal::new(Step::Identify);
    let method = RwSignal::new(RecoveryMethod::Email);
    let identifier = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let answer = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let failure = RwSignal::new(None::<String>);
    let cooldown = RwSignal::new(0u32);

    let tick = move || {
        fn schedule(cooldown: RwSignal<u32>) {
            set_timeout(
                move || {
                    cooldown.update(|c| *c = c.saturating_sub(1));
                    if cooldown.get_untracked() > 0 {
                        schedule(cooldown);
                    }
                },
                std::time::Duration::from_secs(1),
            );
        }
        cooldown.set(RESEND_COOLDOWN);
        schedule(cooldown);
    };

    let request_code = Action::new_local(move |request: &ForgotPasswordRequest| {
        let request = request.clone();
        async move {
            match api::forgot_password(&request).await {
                Ok(_) => {
                    tick();
                    step.set(Step::Code);
                    toasts.success(
                        "If an account matches, a code is on its way to its email address.",
                    );
                }
                Err(e) => {
                    errors.set(e.fields());
                    failure.set(Some(e.message()));
                }
            }
        }
    });
    let verify = Action::new_local(move |request: &VerifyOtpRequest| {
        let request = request.clone();
        async move {
            match api::verify_otp(&request).await {
                Ok(found) => step.set(Step::Question {
                    flow_token: found.flow_token,
                    question: found.security_question,
                }),
                Err(e) => {
                    errors.set(e.fields());
                    failure.set(Some(e.message()));
                }
            }
        }
    });
    let check_answer = Action::new_local(move |request: &AnswerRequest| {
        let request = request.clone();
        async move {
            match api::answer(&request).await {
                Ok(found) => step.set(Step::NewPassword {
                    reset_token: found.reset_token,
                }),
                Err(e) => {
                    errors.set(e.fields());
                    failure.set(Some(e.message()));
                }
            }
        }
    });
    let reset = Action::new_local(move |request: &ResetPasswordRequest| {
        let request = request.clone();
        let navigate = navigate.clone();
        async move {
            match api::reset_password(&request).await {
                Ok(()) => {
                    toasts.success("Password changed. Log in with your new password.");
                    navigate("/login?notice=reset", Default::default());
                }
                Err(e) => {
                    errors.set(e.fields());
                    failure.set(Some(e.message()));
                }
            }
        }
    });

    let forgot_request = move || ForgotPasswordRequest {
        method: method.get_untracked(),
        identifier: identifier.get_untracked(),
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        let busy = request_code.pending().get_untracked()
            || verify.pending().get_untracked()
            || check_answer.pending().get_untracked()
            || reset.pending().get_untracked();
        if busy {
            return;
        }
        match step.get_untracked() {
            Step::Identify => match forgot_request().validate() {
                Ok(_) => {
                    request_code.dispatch(forgot_request());
                }
                Err(fields) => errors.set(fields),
            },
            Step::Code => {
                let request = VerifyOtpRequest {
                    method: method.get_untracked(),
                    identifier: identifier.get_untracked(),
                    otp: code.get_untracked(),
                };
                match request.validate() {
                    Ok(_) => {
                        verify.dispatch(request);
                    }
                    Err(fields) => errors.set(fields),
                }
            }
            Step::Question { flow_token, .. } => {
                let request = AnswerRequest {
                    flow_token,
                    security_answer: answer.get_untracked(),
                };
                match request.validate() {
                    Ok(_) => {
                        check_answer.dispatch(request);
                    }
                    Err(fields) => errors.set(fields),
                }
            }
            Step::NewPassword { reset_token } => {
                let request = ResetPasswordRequest {
                    reset_token,
                    new_password: password.get_untracked(),
                };
                match request.validate(&[identifier.get_untracked().as_str()]) {
                    Ok(_) => {
                        reset.dispatch(request);
                    }
                    Err(fields) => errors.set(fields),
                }
            }
        }
    };
    let pending = Signal::derive(move || {
        request_code.pending().get()
            || verify.pending().get()
            || check_answer.pending().get()
            || reset.pending().get()
    });
    let words = Signal::derive(move || vec![identifier.get()]);

    view! {
        <div class="auth-page">
            <form class="card auth-card" on:submit=on_submit data-testid="forgot-form" novalidate>
                <h1><Icon name=IconName::Key/>" Recover your password"</h1>
                {move || failure.get().map(|f| view! { <p class="alert" role="alert" data-testid="forgot-error">{f}</p> })}
                {move || match step.get() {
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
                    Step::Code => view! {
                        <p><Icon name=IconName::Mail/>" Enter the 6-digit code from the email."</p>
                        <Field label="Code" name="otp" value=code errors=errors autocomplete="one-time-code" required=true/>
                        <SubmitButton label="Verify code" pending=pending testid="otp-submit"/>
                        <button type="button" class="button ghost" data-testid="resend-code"
                            disabled=move || { cooldown.get() > 0 || pending.get() }
                            on:click=move |_| { request_code.dispatch(forgot_request()); }>
                            {move || match cooldown.get() {
                                0 => "Send a new code".to_owned(),
                                s => format!("Send a new code in {s} s"),
                            }}
                        </button>
                    }.into_any(),
                    Step::Question { question, .. } => view! {
                        <p class="question" data-testid="security-question">{question}</p>
                        <Field label="Your answer" name="security_answer" value=answer errors=errors kind="password" required=true/>
                        <SubmitButton label="Continue" pending=pending testid="answer-submit"/>
                    }.into_any(),
                    Step::NewPassword { .. } => view! {
                        <Field label="New password" name="new_password" value=password errors=errors kind="password"
                            autocomplete="new-password" required=true/>
                        <StrengthMeter password=password user_inputs=words/>
                        <SubmitButton label="Set new password" pending=pending testid="reset-submit"/>
                    }.into_any(),
                }}
                <p class="links"><A href="/login">"Back to log in"</A></p>
            </form>
        </div>
    }
}
