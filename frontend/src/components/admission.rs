//! What a sign-up brings besides the account, as the deployment's policy asks
//! (`GET /auth/signup-options`): the code of an invitation, the setup token of a new
//! instance, and an address at one of the allowed domains.

use leptos::prelude::*;
use shared::{FieldErrors, SignupMode, SignupOptions, SignupRequest};

use crate::components::account_fields::non_empty;
use crate::components::form::Field;

/// The codes typed in, and which of them the form asks for.
#[derive(Clone, Copy)]
pub struct Admission {
    invitation_code: RwSignal<String>,
    setup_token: RwSignal<String>,
    invite_only: bool,
    /// An invitation is optional in open mode; a link that brings a code still
    /// shows it (it proves the address).
    asks_code: bool,
    asks_setup_token: bool,
}

impl Admission {
    /// For the policy `options`; `code` is an invitation link's `?code=`.
    pub fn new(options: &SignupOptions, code: Option<String>) -> Self {
        let invite_only = options.mode == SignupMode::Invite;
        Self {
            asks_code: invite_only || code.is_some(),
            invitation_code: RwSignal::new(code.unwrap_or_default()),
            setup_token: RwSignal::new(String::new()),
            invite_only,
            asks_setup_token: options.setup_token_required,
        }
    }

    /// `request` with the codes typed in (left out when empty).
    pub fn apply(&self, request: SignupRequest) -> SignupRequest {
        SignupRequest {
            invitation_code: non_empty(self.invitation_code),
            setup_token: non_empty(self.setup_token),
            ..request
        }
    }
}

#[component]
pub fn AdmissionFields(admission: Admission, errors: RwSignal<FieldErrors>) -> impl IntoView {
    let code_hint = if admission.invite_only {
        "Sign-up is by invitation: the code from your invitation mail, with the address it went to"
    } else {
        "Optional: the code from an invitation mail, with the address it went to"
    };
    view! {
        {admission.asks_code.then(|| view! {
            <Field label="Invitation code" name="invitation_code" value=admission.invitation_code errors=errors
                autocomplete="one-time-code" required=admission.invite_only hint=code_hint/>
        })}
        {admission.asks_setup_token.then(|| view! {
            <Field label="Setup token" name="setup_token" value=admission.setup_token errors=errors required=true
                hint="The first account becomes the admin: enter the token the server printed when it started"/>
        })}
    }
}

/// "Sign-up is open to addresses at …", when the policy limits the domains.
#[component]
pub fn DomainsHint(domains: Vec<String>) -> impl IntoView {
    (!domains.is_empty()).then(|| {
        let text = format!("Sign-up is open to addresses at {}.", domains.join(", "));
        view! { <p class="hint" data-testid="email-domains">{text}</p> }
    })
}
