//! The audit trail (admins; the route guard sees to that): filters and pages live in
//! the URL, like the dashboard's.

use leptos::prelude::*;
use shared::{AuditPage, AuditQuery};

use crate::api;
use crate::components::async_view::AsyncView;
use crate::components::audit::AuditTable;
use crate::components::audit_filters::AuditFilters;
use crate::components::pager::Pager;
use crate::format::range_summary;
use crate::hooks::use_url_query;

#[component]
pub fn AuditPage() -> impl IntoView {
    let (query, go) = use_url_query::<AuditQuery>("/audit");
    let events = LocalResource::new(move || {
        let query = query.get();
        async move { api::list_audit(&query).await }
    });
    // Back to page 1 by number; every other step follows the page's `next` or `prev`
    // cursor, which the server reads from its index however deep the page is.
    let to_page = move |page: &AuditPage| {
        let (next, prev, current) = (page.next.clone(), page.prev.clone(), page.page);
        Callback::new(move |to: u64| {
            let cursor = if to > current { &next } else { &prev };
            let mut query = query.get_untracked();
            query.cursor = cursor.clone().filter(|_| to > 1);
            query.page = Some(if query.cursor.is_some() { to } else { 1 }.to_string());
            go(&query);
        })
    };
    // New filters start from the newest events.
    let apply = Callback::new(move |mut next: AuditQuery| {
        next.cursor = None;
        next.page = None;
        go(&next);
    });
    view! {
        <section class="page">
            <div class="page-head"><h1>"Audit trail"</h1></div>
            <AuditFilters query=query on_apply=apply/>
            <AsyncView resource=events loading="Loading events…" error_testid="audit-error" let:page>
                <p class="summary" data-testid="audit-summary">
                    {range_summary(page.page, page.per_page, page.items.len(), (page.total, page.total_exact), "events")}
                </p>
                {if page.items.is_empty() {
                    view! { <p class="empty" data-testid="empty-state">"No events match."</p> }.into_any()
                } else {
                    view! { <AuditTable events=page.items.clone()/> }.into_any()
                }}
                <Pager page=page.page per_page=page.per_page total=page.total more=!page.total_exact
                    has_next=page.next.is_some() on_page=to_page(&page)/>
            </AsyncView>
        </section>
    }
}
