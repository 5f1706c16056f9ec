//! Any address the app does not know.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="auth-page" id="main" tabindex="-1">
            <div class="card auth-card" data-testid="not-found">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address."</p>
                <A href="/" attr:class="button primary">"Go to the dashboard"</A>
            </div>
        </main>
    }
}
