//! The dashboard: the user table. Its state (page, size, search, sort, role filter)
//! lives in the URL, so reload and back/forward work.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{Cursor, ExportUsersQuery, ListUsers, ListUsersQuery, Sort, User, UserPage};

use crate::api;
use crate::components::async_view::AsyncView;
use crate::components::bulk::{BulkBar, Selection};
use crate::components::icons::{Icon, IconName};
use crate::components::pager::Pager;
use crate::components::toast::use_toasts;
use crate::components::user_filters::UserFilters;
use crate::components::user_table::{DeleteUserDialog, UserTable, may_sort};
use crate::format::range_summary;
use crate::hooks::use_url_query;
use crate::query::UrlQuery;
use crate::session::use_session;

#[component]
pub fn UsersPage() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let (query, set_query) = use_url_query::<ListUsersQuery>("/");
    // The URL is the source of truth; invalid values fall back to defaults, and so
    // does an order the viewer may not use (from a link an admin shared, say).
    let list = Memo::new(move |_| {
        let mut list = query.with(|q| q.validate().unwrap_or_default());
        if !may_sort(list.sort.key, session.is_admin()) {
            list.sort = Sort::default();
        }
        list
    });
    let go = Callback::new(move |next: ListUsers| set_query(&ListUsersQuery::from(&next)));
    let edit = move |change: &dyn Fn(&mut ListUsers)| {
        let mut next = list.get_untracked();
        change(&mut next);
        go.run(next);
    };

    let to_delete = RwSignal::new(None::<User>);
    let delete = Action::new_local(move |user: &User| {
        let user = user.clone();
        async move {
            match api::delete_user(user.id).await {
                Ok(()) => toasts.success(format!("Deleted {}.", user.username)),
                Err(e) => toasts.error(e.message()),
            }
        }
    });
    let deleted = delete.version();
    // Ticked rows, for the bulk actions; a new page, search or order starts afresh.
    let selected: Selection = RwSignal::new(Default::default());
    Effect::new(move |_| {
        list.track();
        selected.set(Default::default());
    });
    let changed = RwSignal::new(0_u32);
    let on_bulk_done = Callback::new(move |()| changed.update(|n| *n += 1));
    let users = LocalResource::new(move || {
        let request = ListUsersQuery::from(&list.get());
        deleted.track();
        changed.track();
        async move { api::list_users(&request).await }
    });
    let sort = Signal::derive(move || list.get().sort);
    let on_sort = Callback::new(move |sort| {
        edit(&|l| {
            l.sort = sort;
            l.page = 1;
            l.cursor = None;
        })
    });
    let on_delete = Callback::new(move |user| to_delete.set(Some(user)));

    view! {
        <section class="page">
            <PageHead list=list/>
            <UserFilters list=list on_change=go names_only=!session.is_admin()/>
            <Show when=move || session.is_admin()>
                <BulkBar selected=selected done=on_bulk_done/>
            </Show>
            <AsyncView resource=users loading="Loading users…" loading_testid="loading" let:page>
                <p class="summary" data-testid="summary">
                    {range_summary(page.page, page.per_page, page.items.len(), (page.total, page.total_exact), "users")}
                </p>
                {if page.items.is_empty() {
                    let text = match list.get_untracked().q {
                        Some(q) => format!("No users match “{q}”."),
                        None => "No users on this page.".to_owned(),
                    };
                    view! { <p class="empty" data-testid="empty-state">{text}</p> }.into_any()
                } else {
                    view! {
                        <UserTable users=page.items.clone() sort=sort on_sort=on_sort on_delete=on_delete
                            admin=session.is_admin() me=session.user_id()
                            selected=session.is_admin().then_some(selected)/>
                    }.into_any()
                }}
                {cursor_pager(&page, list, go)}
            </AsyncView>
            <DeleteUserDialog open=to_delete on_confirm=Callback::new(move |user: User| { delete.dispatch(user); })/>
        </section>
    }
}

/// The title, and for admins the export of the list as shown and "Add user".
#[component]
fn PageHead(list: Memo<ListUsers>) -> impl IntoView {
    let session = use_session();
    view! {
    <div class="page-head">
        <h1>"Users"</h1>
        <Show when=move || session.is_admin()>
            <div class="actions">
                <a href=move || export_href(&list.get()) class="button" download="users.csv"
                    data-testid="export-csv">
                    <Icon name=IconName::Download/>" Export CSV"
                </a>
                <A href="/users/import" attr:class="button" attr:data-testid="import-csv">"Import CSV"</A>
                <A href="/users/new" attr:class="button primary" attr:data-testid="add-user">
                    <Icon name=IconName::Plus/>" Add user"
                </A>
            </div>
        </Show>
    </div>
    }
}

/// The pager of a page of users. Back to page 1 by number; every other step follows
/// the page's `next` or `prev` cursor, which the server reads from its index however
/// deep the page is.
fn cursor_pager(
    page: &UserPage,
    list: Memo<ListUsers>,
    go: Callback<ListUsers>,
) -> impl IntoView + use<> {
    let (next, prev, current) = (page.next.clone(), page.prev.clone(), page.page);
    let on_page = Callback::new(move |to: u64| {
        let cursor = if to > current { &next } else { &prev };
        let mut list = list.get_untracked();
        list.cursor = cursor
            .as_deref()
            .filter(|_| to > 1)
            .and_then(Cursor::decode);
        list.page = if list.cursor.is_some() { to } else { 1 };
        go.run(list);
    });
    view! {
        <Pager page=page.page per_page=page.per_page total=page.total more=!page.total_exact
            has_next=page.next.is_some() testids=true on_page=on_page/>
    }
}

/// The CSV of every account the list shows (all pages), in the list's order.
fn export_href(list: &ListUsers) -> String {
    let shown = ListUsersQuery::from(list);
    let export = ExportUsersQuery {
        q: shown.q,
        sort: shown.sort,
        role: shown.role,
    };
    format!("/api/v1/users/export.csv{}", export.to_query_string())
}
