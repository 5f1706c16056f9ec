//! Edit a user (admins: anyone, role included; users: themselves). Admins also get
//! the account's controls and its recent activity.

use leptos::Params;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params};
use leptos_router::params::Params;
use shared::{FieldErrors, UpdateUserRequest, User};

use crate::api;
use crate::components::account_controls::{AccountControl, AccountControls};
use crate::components::account_fields::{ProfileFields, ProfileForm, RoleSelect};
use crate::components::async_view::AsyncView;
use crate::components::form::{Field, StrengthMeter, SubmitButton};
use crate::components::timeline::Timeline;
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};
use crate::session::use_session;

/// `/users/:id/edit`; an id that is not a number finds no user.
#[derive(Params, Clone, PartialEq)]
struct UserPath {
    id: Option<i32>,
}

#[component]
pub fn EditUserPage() -> impl IntoView {
    let session = use_session();
    let path = use_params::<UserPath>();
    let user = LocalResource::new(move || {
        let id = path.with(|p| p.as_ref().ok().and_then(|p| p.id));
        async move {
            match id {
                Some(id) => api::get_user(id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    view! {
        <section class="page narrow">
            <h1>"Edit user"</h1>
            <AsyncView resource=user let:found>
                {match found {
                    Some(user) => {
                        let (id, admin) = (user.id, session.is_admin());
                        let other = session.user_id() != Some(id);
                        let control = AccountControl::new(user.clone());
                        view! {
                            <EditUserForm user=user/>
                            {(admin && other).then(|| view! { <AccountControls control=control/> })}
                            {admin.then(|| view! { <Timeline user_id=id version=control.version()/> })}
                        }.into_any()
                    }
                    None => view! { <p class="alert">"No such user."</p> }.into_any(),
                }}
            </AsyncView>
        </section>
    }
}

#[component]
fn EditUserForm(user: User) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let is_admin = session.is_admin();
    let form = ProfileForm::from_user(&user);
    let role = RwSignal::new(user.role);
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let id = user.id;
    let save = use_form_action(
        errors,
        Failure::Toast,
        move |request: UpdateUserRequest| async move { api::update_user(id, &request).await },
        move |updated: User| {
            if session.user_id() == Some(updated.id) {
                session.user.set(Some(updated.clone()));
            }
            toasts.success(format!("Saved {}.", updated.username));
            navigate("/", Default::default());
        },
    );
    let on_submit = save.on_submit(move || {
        let new_password = password.get_untracked();
        let request = UpdateUserRequest {
            profile: form.request(),
            role: is_admin.then(|| role.get_untracked()),
            password: (is_admin && !new_password.is_empty()).then_some(new_password),
        };
        request.validate(&user).map(|_| request)
    });
    view! {
        <form class="card" on:submit=on_submit data-testid="user-form" novalidate>
            <ProfileFields form=form errors=errors/>
            {is_admin.then(|| view! {
                <RoleSelect role=role/>
                <Field label="New password (optional)" name="password" value=password errors=errors kind="password"
                    autocomplete="new-password" hint="Leave empty to keep the current password"/>
                <StrengthMeter password=password user_inputs=form.known_words()/>
            })}
            <div class="actions">
                <A href="/" attr:class="button" attr:data-testid="cancel">"Cancel"</A>
                <SubmitButton label="Save" pending=save.pending() testid="save-user"/>
            </div>
        </form>
    }
}
