//! Add a user (admins) and edit one (admins: anyone, role included; users: themselves).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::{CreateUserRequest, FieldErrors, Role, UpdateUserRequest, User};

use crate::api;
use crate::components::form::{Field, StrengthMeter, SubmitButton};
use crate::components::toast::use_toasts;
use crate::format;
use crate::pages::audit::Timeline;
use crate::pages::signup::{AccountFields, AccountForm, ProfileFields, ProfileForm};
use crate::session::use_session;

#[component]
fn RoleSelect(role: RwSignal<Role>) -> impl IntoView {
    view! {
        <div class="field">
            <label for="field-role">"Role"</label>
            <select id="field-role" name="role" data-testid="input-role"
                prop:value=move || role.get().as_str()
                on:change=move |ev| role.set(Role::parse(&event_target_value(&ev)).unwrap_or(Role::User))>
                <option value="user">"User"</option>
                <option value="admin">"Admin"</option>
            </select>
        </div>
    }
}

#[component]
pub fn NewUserPage() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let form = AccountForm::new();
    let role = RwSignal::new(Role::User);
    let errors = RwSignal::new(FieldErrors::new());
    let create = Action::new_local(move |request: &CreateUserRequest| {
        let request = request.clone();
        let navigate = navigate.clone();
        async move {
            match api::create_user(&request).await {
                Ok(user) => {
                    toasts.success(format!("Created {}.", user.username));
                    navigate("/", Default::default());
                }
                Err(e) => {
                    errors.set(e.fields());
                    toasts.error(e.message());
                }
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if create.pending().get_untracked() {
            return;
        }
        let request = CreateUserRequest {
            account: form.request(),
            role: Some(role.get_untracked()),
        };
        match request.account.validate() {
            Ok(_) => {
                create.dispatch(request);
            }
            Err(fields) => errors.set(fields),
        }
    };
    view! {
        <section class="page narrow">
            <h1>"Add user"</h1>
            <Show when=move || session.is_admin() fallback=|| view! { <p class="alert">"Only admins can add users."</p> }>
                <form class="card" on:submit=on_submit data-testid="user-form" novalidate>
                    <AccountFields form=form errors=errors/>
                    <RoleSelect role=role/>
                    <div class="actions">
                        <A href="/" attr:class="button">"Cancel"</A>
                        <SubmitButton label="Create user" pending=create.pending().into() testid="save-user"/>
                    </div>
                </form>
            </Show>
        </section>
    }
}

#[component]
pub fn EditUserPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i32>().ok()));
    let user = LocalResource::new(move || {
        let id = id();
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
            <Transition fallback=|| view! { <p class="loading"><span class="spinner"></span>" Loading…"</p> }>
                {move || user.get().map(|result| match result {
                    Ok(Some(user)) => {
                        let id = user.id;
                        let admin = session.is_admin();
                        let other = session.user_id() != Some(id);
                        // Bumped by each account action, so the timeline shows it.
                        let changes = RwSignal::new(0u32);
                        view! {
                            <EditUserForm user=user.clone()/>
                            {(admin && other).then(|| view! { <AccountControls user=user changes=changes/> })}
                            {admin.then(|| view! { <Timeline user_id=id changes=changes/> })}
                        }.into_any()
                    }
                    Ok(None) => view! { <p class="alert">"No such user."</p> }.into_any(),
                    Err(e) => view! { <p class="alert" role="alert">{e.message()}</p> }.into_any(),
                })}
            </Transition>
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
    let stored = StoredValue::new(user.clone());

    let save = Action::new_local(move |request: &UpdateUserRequest| {
        let request = request.clone();
        let navigate = navigate.clone();
        let id = stored.with_value(|u| u.id);
        async move {
            match api::update_user(id, &request).await {
                Ok(updated) => {
                    if session.user_id() == Some(updated.id) {
                        session.user.set(Some(updated.clone()));
                    }
                    toasts.success(format!("Saved {}.", updated.username));
                    navigate("/", Default::default());
                }
                Err(e) => {
                    errors.set(e.fields());
                    toasts.error(e.message());
                }
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if save.pending().get_untracked() {
            return;
        }
        let new_password = password.get_untracked();
        let request = UpdateUserRequest {
            profile: form.request(),
            role: is_admin.then(|| role.get_untracked()),
            password: (is_admin && !new_password.is_empty()).then_some(new_password),
        };
        match stored.with_value(|u| request.validate(u)) {
            Ok(_) => {
                save.dispatch(request);
            }
            Err(fields) => errors.set(fields),
        }
    };
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
                <SubmitButton label="Save" pending=save.pending().into() testid="save-user"/>
            </div>
        </form>
    }
}

/// What an admin can do to an account besides editing it: disable or enable it,
/// unlock it after failed logins, end its sessions.
#[component]
fn AccountControls(user: User, changes: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let current = RwSignal::new(user);
    let act = Action::new_local(move |what: &Control| {
        let what = *what;
        let id = current.with_untracked(|u| u.id);
        async move {
            let result = match what {
                Control::Disable => api::disable_user(id).await.map(Some),
                Control::Enable => api::enable_user(id).await.map(Some),
                Control::Unlock => api::unlock_user(id).await.map(Some),
                Control::EndSessions => api::revoke_user_sessions(id).await.map(|done| {
                    toasts.success(format!("Ended {} session(s).", done.revoked));
                    None
                }),
            };
            match result {
                Ok(Some(user)) => {
                    toasts.success(what.done(&user.username));
                    current.set(user);
                }
                Ok(None) => {}
                Err(e) => return toasts.error(e.message()),
            }
            changes.update(|n| *n += 1);
        }
    });
    let status = move || {
        current.with(|u| match (&u.disabled_at, &u.locked_until) {
            (Some(at), _) => format!("Disabled since {}", format::time(*at)),
            (None, Some(until)) => {
                format!("Locked after failed logins until {}", format::time(*until))
            }
            (None, None) => "Active".to_owned(),
        })
    };
    let disabled = move || current.with(|u| u.disabled_at.is_some());
    let locked = move || current.with(|u| u.locked_until.is_some());
    let busy = move || act.pending().get();
    view! {
        <section class="card controls" data-testid="account-controls">
            <h2>"Account"</h2>
            <p data-testid="account-status">{status}</p>
            <div class="actions">
                <Show when=locked>
                    <button type="button" class="button" data-testid="unlock-user" disabled=busy
                        on:click=move |_| { act.dispatch(Control::Unlock); }>"Unlock"</button>
                </Show>
                <Show when=disabled fallback=move || view! {
                    <button type="button" class="button danger" data-testid="disable-user" disabled=busy
                        on:click=move |_| { act.dispatch(Control::Disable); }>"Disable"</button>
                }>
                    <button type="button" class="button" data-testid="enable-user" disabled=busy
                        on:click=move |_| { act.dispatch(Control::Enable); }>"Enable"</button>
                </Show>
                <button type="button" class="button" data-testid="end-sessions" disabled=busy
                    on:click=move |_| { act.dispatch(Control::EndSessions); }>"End all sessions"</button>
            </div>
        </section>
    }
}

#[derive(Debug, Clone, Copy)]
enum Control {
    Disable,
    Enable,
    Unlock,
    EndSessions,
}

impl Control {
    fn done(self, username: &str) -> String {
        match self {
            Control::Disable => format!("Disabled {username}; their sessions ended."),
            Control::Enable => format!("Enabled {username}."),
            Control::Unlock => format!("Unlocked {username}."),
            Control::EndSessions => format!("Ended the sessions of {username}."),
        }
    }
}
