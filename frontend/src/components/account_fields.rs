//! The fields of an account, bound to signals: everything for signup and "add user"
//! (`AccountForm`), the editable profile for "edit user" and "my profile"
//! (`ProfileForm`), and the role select. Client-side checks use `shared`, the server's
//! own rules.

use leptos::prelude::*;
use shared::{FieldErrors, Role, SignupRequest, UpdateProfileRequest, User};

use crate::components::email_state::EmailStatus;
use crate::components::form::{Field, StrengthMeter};

/// The account fields shared by signup and "add user", bound to one form.
#[derive(Clone, Copy)]
pub struct AccountForm {
    pub profile: ProfileForm,
    pub password: RwSignal<String>,
    pub security_question: RwSignal<String>,
    pub security_answer: RwSignal<String>,
}

impl AccountForm {
    pub fn new() -> Self {
        let s = || RwSignal::new(String::new());
        Self {
            profile: ProfileForm {
                first_name: s(),
                last_name: s(),
                username: s(),
                email: s(),
                mobile: s(),
            },
            password: s(),
            security_question: s(),
            security_answer: s(),
        }
    }

    pub fn request(&self) -> SignupRequest {
        let p = self.profile;
        SignupRequest {
            first_name: p.first_name.get_untracked(),
            last_name: p.last_name.get_untracked(),
            username: p.username.get_untracked(),
            email: p.email.get_untracked(),
            mobile: p.mobile.get_untracked(),
            password: self.password.get_untracked(),
            security_question: self.security_question.get_untracked(),
            security_answer: self.security_answer.get_untracked(),
            ..SignupRequest::default()
        }
    }
}

/// Every account field, with client-side checks from `shared` (the server's rules).
#[component]
pub fn AccountFields(form: AccountForm, errors: RwSignal<FieldErrors>) -> impl IntoView {
    view! {
        <ProfileFields form=form.profile errors=errors/>
        <Field label="Password" name="password" value=form.password errors=errors kind="password" autocomplete="new-password" required=true
            hint="At least 12 characters; a few unusual words work well" advised=true/>
        <StrengthMeter password=form.password user_inputs=form.profile.known_words()/>
        <Field label="Security question" name="security_question" value=form.security_question errors=errors required=true
            hint="Asked when you recover your password"/>
        <Field label="Security answer" name="security_answer" value=form.security_answer errors=errors kind="password" required=true/>
    }
}

/// The editable profile of an existing account (edit user, my profile).
#[derive(Clone, Copy)]
pub struct ProfileForm {
    pub first_name: RwSignal<String>,
    pub last_name: RwSignal<String>,
    pub username: RwSignal<String>,
    pub email: RwSignal<String>,
    pub mobile: RwSignal<String>,
}

impl ProfileForm {
    /// The form for `user`. The email field holds the address the account asked for
    /// last (a pending one, if any): saving the form untouched then changes nothing,
    /// where sending the current address would withdraw the pending change.
    pub fn from_user(user: &User) -> Self {
        let s = |v: &str| RwSignal::new(v.to_owned());
        let email = user.pending_email.as_ref().or(user.email.as_ref());
        Self {
            first_name: s(&user.first_name),
            last_name: s(&user.last_name),
            username: s(&user.username),
            email: s(email.map_or("", String::as_str)),
            mobile: s(user.mobile.as_deref().unwrap_or_default()),
        }
    }

    /// Every field, sent as it stands (unchanged ones change nothing).
    pub fn request(&self) -> UpdateProfileRequest {
        UpdateProfileRequest {
            first_name: Some(self.first_name.get_untracked()),
            last_name: Some(self.last_name.get_untracked()),
            username: Some(self.username.get_untracked()),
            email: Some(self.email.get_untracked()),
            mobile: Some(self.mobile.get_untracked()),
            ..Default::default()
        }
    }

    pub fn known_words(&self) -> Signal<Vec<String>> {
        let form = *self;
        Signal::derive(move || {
            vec![
                form.username.get(),
                form.email.get(),
                form.first_name.get(),
                form.last_name.get(),
            ]
        })
    }
}

/// The profile fields; `account`, when given, is the account whose address state
/// shows under the email field.
#[component]
pub fn ProfileFields(
    form: ProfileForm,
    errors: RwSignal<FieldErrors>,
    #[prop(optional, into)] account: Option<Signal<Option<User>>>,
) -> impl IntoView {
    view! {
        <div class="grid-2">
            <Field label="First name" name="first_name" value=form.first_name errors=errors autocomplete="given-name" required=true/>
            <Field label="Last name" name="last_name" value=form.last_name errors=errors autocomplete="family-name" required=true/>
        </div>
        <Field label="Username" name="username" value=form.username errors=errors autocomplete="username" required=true
            hint="3-32 characters: letters, digits, '.', '_' or '-'"/>
        <div class="grid-2">
            <div>
                <Field label="Email" name="email" value=form.email errors=errors kind="email" autocomplete="email" required=true/>
                {account.map(|user| view! { <EmailStatus user=user/> })}
            </div>
            <Field label="Mobile" name="mobile" value=form.mobile errors=errors kind="tel" autocomplete="tel" required=true/>
        </div>
    }
}

/// The account holder's password, which the server wants with a change of their own
/// username, email, mobile or security question (so a stolen session cannot move the
/// account to another inbox); `sets_password`: an admin's own new password too.
#[component]
pub fn CurrentPasswordField(
    value: RwSignal<String>,
    errors: RwSignal<FieldErrors>,
    #[prop(optional)] sets_password: bool,
) -> impl IntoView {
    let hint = if sets_password {
        "Needed to change your username, email, mobile, security question or password"
    } else {
        "Needed to change your username, email, mobile or security question"
    };
    view! {
        <Field label="Current password" name="current_password" value=value errors=errors kind="password"
            autocomplete="current-password" hint=hint/>
    }
}

/// `value` unless it is blank: optional fields are left out of a request when empty.
pub fn non_empty(value: RwSignal<String>) -> Option<String> {
    Some(value.get_untracked()).filter(|v| !v.trim().is_empty())
}

/// The role of a new or edited account (admins only).
#[component]
pub fn RoleSelect(role: RwSignal<Role>) -> impl IntoView {
    view! {
        <div class="field">
            <label for="field-role">"Role"</label>
            <select id="field-role" name="role" data-testid="input-role"
                prop:value=move || role.get().as_str()
                on:change=move |ev| role.set(Role::parse(&event_target_value(&ev)).unwrap_or(Role::User))>
                <option value=Role::User.as_str()>"User"</option>
                <option value=Role::Admin.as_str()>"Admin"</option>
            </select>
        </div>
    }
}
