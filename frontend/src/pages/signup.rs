//! Create an account, as far as the deployment's sign-up policy allows (anyone, by
//! invitation, or nobody; perhaps only some email domains; the setup token for the
//! first account of an instance on the network); then log in.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::{FieldErrors, SignupMode, SignupOptions, SignupRequest};

use crate::api;
use crate::components::account_fields::{AccountFields, AccountForm};
use crate::components::admission::{Admission, AdmissionFields, DomainsHint};
use crate::components::async_view::AsyncView;
use crate::components::form::SubmitButton;
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};

#[component]
pub fn SignupPage() -> impl IntoView {
    let options = LocalResource::new(api::signup_options);
    view! {
        <main class="auth-page" id="main" tabindex="-1">
            <AsyncView resource=options error_testid="signup-options-error" let:options>
                {match options.mode {
                    // The first account of an instance (it becomes the admin) may
                    // sign up whatever the mode; with the setup token, that is now.
                    SignupMode::Closed if !options.setup_token_required => view! { <SignupClosed/> }.into_any(),
                    _ => view! { <SignupForm options=options/> }.into_any(),
                }}
            </AsyncView>
        </main>
    }
}

#[component]
fn SignupClosed() -> impl IntoView {
    view! {
        <div class="card auth-card" data-testid="signup-closed">
            <h1>"Create an account"</h1>
            <p>"Sign-up is closed. Ask an administrator for an account."</p>
            <p class="links"><A href="/login">"Back to log in"</A></p>
        </div>
    }
}

#[component]
fn SignupForm(options: SignupOptions) -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let form = AccountForm::new();
    // An invitation link may bring the code and the address it went to.
    let (code, email) = use_query_map().with_untracked(|q| (q.get("code"), q.get("email")));
    form.profile.email.set(email.unwrap_or_default());
    let admission = Admission::new(&options, code);
    let errors = RwSignal::new(FieldErrors::new());
    // Policy refusals (403) name no field: their sentence shows by the button.
    let failure = RwSignal::new(None::<String>);
    let signup = use_form_action(
        errors,
        Failure::Alert(failure),
        |request: SignupRequest| async move { api::signup(&request).await },
        move |_| {
            toasts.success("Account created.");
            navigate("/login?notice=created", Default::default());
        },
    );
    let on_submit = signup.on_submit(move || {
        let request = admission.apply(form.request());
        request.validate().map(|_| request)
    });
    view! {
        <form class="card auth-card wide" on:submit=on_submit data-testid="signup-form" novalidate>
            <h1>"Create an account"</h1>
            <DomainsHint domains=options.email_domains/>
            <AccountFields form=form errors=errors/>
            <AdmissionFields admission=admission errors=errors/>
            {move || failure.get().map(|f| view! { <p class="alert" role="alert" data-testid="signup-error">{f}</p> })}
            <SubmitButton label="Create account" pending=signup.pending() testid="signup-submit"/>
            <p class="links">"Already registered? "<A href="/login">"Log in"</A></p>
        </form>
    }
}
