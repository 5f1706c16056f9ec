//! The frame around signed-in pages: header with navigation and the account menu, and
//! the reminder to confirm the email address.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::avatar::Avatar;
use crate::components::email_state::VerifyBanner;
use crate::components::icons::{Icon, IconName};
use crate::components::mfa::EnrolmentRequired;
use crate::components::toast::use_toasts;
use crate::session::use_session;

#[component]
pub fn Shell() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let logout = Action::new_local(move |_: &()| async move { api::logout().await });
    Effect::new(move |_| {
        if let Some(result) = logout.value().get() {
            session.must_enrol.set(false);
            session.user.set(None);
            match result {
                Ok(()) => toasts.success("You are logged out."),
                Err(e) => toasts.error(e.message()),
            }
            navigate("/login", Default::default());
        }
    });
    let name = move || {
        session
            .user
            .with(|u| u.as_ref().map(|u| u.username.clone()).unwrap_or_default())
    };
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand"><Icon name=IconName::Users/>" User Management"</A>
            <nav aria-label="Main">
                <A href="/" attr:data-testid="nav-users">"Users"</A>
                <Show when=move || session.is_admin()>
                    <A href="/invitations" attr:data-testid="nav-invitations">"Invitations"</A>
                    <A href="/audit" attr:data-testid="nav-audit">"Audit"</A>
                    <A href="/api-keys" attr:data-testid="nav-api-keys">"API keys"</A>
                    <A href="/webhooks" attr:data-testid="nav-webhooks">"Webhooks"</A>
                </Show>
                <A href="/sessions" attr:data-testid="nav-sessions">"Sessions"</A>
                <A href="/profile" attr:data-testid="nav-profile" attr:class="user-cell">
                    {move || session.user.get().map(|me| view! { <Avatar user=me/> })}
                    <span data-testid="current-user">{name}</span>
                </A>
                <button type="button" class="button ghost" data-testid="logout"
                    disabled=move || logout.pending().get()
                    on:click=move |_| { logout.dispatch(()); }>
                    <Icon name=IconName::LogOut/>" Log out"
                </button>
            </nav>
        </header>
        <main class="content" id="main" tabindex="-1">
            <VerifyBanner/>
            <Show when=move || !session.must_enrol.get() fallback=EnrolmentRequired>
                <Outlet/>
            </Show>
        </main>
    }
}
