//! The audit trail (admins; the route guard sees to that): filters and pages live in
//! the URL, like the dashboard's.

use leptos::prelude::*;
use shared::AuditQuery;

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
    let to_page = Callback::new(move |page: u64| {
        let mut next = query.get_untracked();
        next.page = Some(page.to_string());
        go(&next);
    });
    view! {
        <section class="page">
            <div class="page-head"><h1>"Audit trail"</h1></div>
            <AuditFilters query=query on_apply=Callback::new(move |next: AuditQuery| go(&next))/>
            <AsyncView resource=events loading="Loading events…" error_testid="audit-error" let:page>
                <p class="summary" data-testid="audit-summary">
                    {range_summary(page.page, page.per_page, page.items.len(), (page.total, true), "events")}
                </p>
                {if page.items.is_empty() {
                    view! { <p class="empty" data-testid="empty-state">"No events match."</p> }.into_any()
                } else {
                    view! { <AuditTable events=page.items/> }.into_any()
                }}
                <Pager page=page.page per_page=page.per_page total=page.total on_page=to_page/>
            </AsyncView>
        </section>
    }
}
