//! Routes, route guards, and the app-wide session and notifications.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{ProtectedParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::api;
use crate::components::layout::Shell;
use crate::components::toast::{ToastRegion, Toasts};
use crate::pages::audit::AuditPage;
use crate::pages::forgot::ForgotPage;
use crate::pages::login::LoginPage;
use crate::pages::not_found::NotFound;
use crate::pages::profile::ProfilePage;
use crate::pages::sessions::SessionsPage;
use crate::pages::signup::SignupPage;
use crate::pages::user_form::{EditUserPage, NewUserPage};
use crate::pages::users::UsersPage;
use crate::session::{Session, current_location};

#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    let toasts = Toasts::new();
    provide_context(session);
    provide_context(toasts);

    spawn_local(async move {
        match api::current_user().await {
            Ok(user) => session.user.set(user),
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
        let notice = if session.expired.get_untracked() {
            "notice=expired&"
        } else {
            ""
        };
        format!("/login?{notice}next={}", api::encode(&current_location()))
    };

    view! {
        <Router>
            <ToastRegion/>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/signup") view=SignupPage/>
                <Route path=path!("/forgot") view=ForgotPage/>
                <ProtectedParentRoute path=path!("") view=Shell condition=signed_in redirect_path=to_login>
                    <Route path=path!("/") view=UsersPage/>
                    <Route path=path!("/users/new") view=NewUserPage/>
                    <Route path=path!("/users/:id/edit") view=EditUserPage/>
                    <Route path=path!("/profile") view=ProfilePage/>
                    <Route path=path!("/sessions") view=SessionsPage/>
                    <Route path=path!("/audit") view=AuditPage/>
                </ProtectedParentRoute>
            </Routes>
        </Router>
    }
}
