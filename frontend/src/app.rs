//! Routes, route guards, and the app-wide session and notifications.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{ProtectedParentRoute, ProtectedRoute, Route, Router, Routes};
use leptos_router::path;
use shared::Role;
use wasm_bindgen::JsCast;

use crate::api;
use crate::components::layout::Shell;
use crate::components::toast::{ToastRegion, Toasts};
use crate::pages::api_keys::ApiKeysPage;
use crate::pages::audit::AuditPage;
use crate::pages::edit_user::EditUserPage;
use crate::pages::forgot::ForgotPage;
use crate::pages::import::ImportPage;
use crate::pages::invitations::InvitationsPage;
use crate::pages::login::LoginPage;
use crate::pages::new_user::NewUserPage;
use crate::pages::not_found::NotFound;
use crate::pages::profile::ProfilePage;
use crate::pages::sessions::SessionsPage;
use crate::pages::signup::SignupPage;
use crate::pages::users::UsersPage;
use crate::pages::verify_email::VerifyEmailPage;
use crate::pages::webhooks::WebhooksPage;
use crate::session::{Session, current_location};
use crate::{nav, query};

#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    let toasts = Toasts::new();
    provide_context(session);
    provide_context(toasts);

    spawn_local(async move {
        match api::session_state().await {
            Ok(state) => session.set_state(state),
            Err(e) => toasts.error(e.message()),
        }
        session.ready.set(true);
    });
    // A call that finds the session gone signs the app out; the route guard then
    // sends the user to the login page, which says why and returns here afterwards.
    api::on_session_expired(move || {
        if session.user.get_untracked().is_some() {
            session.expired.set(true);
            session.user.set(None);
        }
    });

    let signed_in = move || {
        session
            .ready
            .get()
            .then(|| session.user.with(Option::is_some))
    };
    let to_login = move || {
        let here = current_location();
        // Logging out goes to the login page before this guard sees the session end:
        // there is nowhere to come back to then.
        if nav::is_login_page(&here) {
            return "/login".to_owned();
        }
        let notice = if session.expired.get_untracked() {
            "notice=expired&"
        } else {
            ""
        };
        format!("/login?{notice}next={}", query::encode(&here))
    };
    // Admin screens send anyone else to the dashboard. Signed out, the answer is
    // "unknown", so the signed-in guard around them sends the user to log in instead.
    let admin = Memo::new(move |_| {
        session
            .user
            .with(|u| u.as_ref().map(|u| u.role == Role::Admin))
    });
    let is_admin = move || admin.get();

    view! {
        <Router>
            <SkipLink/>
            <ToastRegion/>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/signup") view=SignupPage/>
                <Route path=path!("/forgot") view=ForgotPage/>
                <ProtectedParentRoute path=path!("") view=Shell condition=signed_in redirect_path=to_login>
                    <Route path=path!("/") view=UsersPage/>
                    <ProtectedRoute path=path!("/users/new") view=NewUserPage condition=is_admin redirect_path=|| "/"/>
                    <ProtectedRoute path=path!("/users/import") view=ImportPage condition=is_admin redirect_path=|| "/"/>
                    <Route path=path!("/users/:id/edit") view=EditUserPage/>
                    <Route path=path!("/profile") view=ProfilePage/>
                    <Route path=path!("/sessions") view=SessionsPage/>
                    <Route path=path!("/verify-email") view=VerifyEmailPage/>
                    <ProtectedRoute path=path!("/invitations") view=InvitationsPage condition=is_admin redirect_path=|| "/"/>
                    <ProtectedRoute path=path!("/audit") view=AuditPage condition=is_admin redirect_path=|| "/"/>
                    <ProtectedRoute path=path!("/api-keys") view=ApiKeysPage condition=is_admin redirect_path=|| "/"/>
                    <ProtectedRoute path=path!("/webhooks") view=WebhooksPage condition=is_admin redirect_path=|| "/"/>
                </ProtectedParentRoute>
            </Routes>
        </Router>
    }
}

/// The first stop of the keyboard on every screen: straight to its `main` content,
/// past the header and navigation.
#[component]
fn SkipLink() -> impl IntoView {
    let skip = |ev: leptos::ev::MouseEvent| {
        // The router would take `#main` for a navigation; move the focus instead.
        ev.prevent_default();
        let main = document()
            .get_element_by_id("main")
            .and_then(|main| main.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(main) = main {
            let _ = main.focus();
        }
    };
    view! {
        <a href="#main" class="skip-link" data-testid="skip-link" on:click=skip>"Skip to content"</a>
    }
}
