//! An account's recent activity, for its page (admins).

use leptos::prelude::*;
use shared::AuditQuery;

use crate::api;
use crate::components::async_view::AsyncView;
use crate::components::audit::AuditTable;

/// Events shown on an account's page.
const TIMELINE_LENGTH: u64 = 20;

/// The newest events about account `user_id`; reloads when `version` moves (the
/// version of the action that changes the account).
#[component]
pub fn Timeline(user_id: i32, #[prop(into)] version: Signal<usize>) -> impl IntoView {
    let events = LocalResource::new(move || {
        version.track();
        async move {
            let query = AuditQuery {
                target: Some(user_id.to_string()),
                per_page: Some(TIMELINE_LENGTH.to_string()),
                ..AuditQuery::default()
            };
            api::list_audit(&query).await
        }
    });
    view! {
        <section class="card timeline" data-testid="timeline">
            <div class="page-head">
                <h2>"Activity"</h2>
                <a class="button small" href=format!("/audit?target={user_id}")>"All events"</a>
            </div>
            <AsyncView resource=events let:page>
                {if page.items.is_empty() {
                    view! { <p class="empty">"No events yet."</p> }.into_any()
                } else {
                    view! { <AuditTable events=page.items/> }.into_any()
                }}
            </AsyncView>
        </section>
    }
}
