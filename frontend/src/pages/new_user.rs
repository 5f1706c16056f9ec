//! Add a user (admins; the route guard sees to that).

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::{CreateUserRequest, FieldErrors, Role, User};

use crate::api;
use crate::components::account_fields::{AccountFields, AccountForm, RoleSelect};
use crate::components::form::SubmitButton;
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};

#[component]
pub fn NewUserPage() -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let form = AccountForm::new();
    let role = RwSignal::new(Role::User);
    let errors = RwSignal::new(FieldErrors::new());
    let create = use_form_action(
        errors,
        Failure::Toast,
        |request: CreateUserRequest| async move { api::create_user(&request).await },
        move |user: User| {
            toasts.success(format!("Created {}.", user.username));
            navigate("/", Default::default());
        },
    );
    let on_submit = create.on_submit(move || {
        let request = CreateUserRequest {
            account: form.request(),
            role: Some(role.get_untracked()),
        };
        request.account.validate().map(|_| request)
    });
    view! {
        <section class="page narrow">
            <h1>"Add user"</h1>
            <form class="card" on:submit=on_submit data-testid="user-form" novalidate>
                <AccountFields form=form errors=errors/>
                <RoleSelect role=role/>
                <div class="actions">
                    <A href="/" attr:class="button">"Cancel"</A>
                    <SubmitButton label="Create user" pending=create.pending() testid="save-user"/>
                </div>
            </form>
        </section>
    }
}
