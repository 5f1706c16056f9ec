//! The browser app: Leptos (client-side rendering), built by Trunk.

mod api;
mod app;
mod components;
mod format;
mod hooks;
mod nav;
mod pages;
mod query;
mod session;
mod share;
mod webauthn;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
