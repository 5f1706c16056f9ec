//! The dashboard: the user table. Its state (page, size, search, sort, role filter)
//! lives in the URL, so reload and back/forward work.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::{ListUsers, ListUsersQuery, Role, Sort, SortKey, User, UserPage};

use crate::api;
use crate::components::confirm::ConfirmDialog;
use crate::components::icons::{Icon, IconName};
use crate::components::toast::use_toasts;
use crate::format::{range_summary, time_or_never};
use crate::session::use_session;

const PAGE_SIZES: [u64; 4] = [10, 20, 50, 100];
const SEARCH_DELAY_MS: u64 = 300;

fn summary(page: &UserPage) -> String {
    range_summary(
        page.page,
        page.per_page,
        page.items.len(),
        page.total,
        "users",
    )
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = StoredValue::new_local(use_navigate());
    let query = use_query_map();

    // The URL is the source of truth; invalid values fall back to defaults.
    let params = Memo::new(move |_| {
        query
            .with(|q| ListUsersQuery {
                page: q.get("page"),
                per_page: q.get("per_page"),
                q: q.get("q"),
                sort: q.get("sort"),
                role: q.get("role"),
            })
            .validate()
            .unwrap_or_default()
    });
    let go = move |change: &dyn Fn(&mut ListUsers)| {
        let mut next = params.get_untracked();
        change(&mut next);
        let url = format!("/{}", api::query_string(&ListUsersQuery::from(&next)));
        navigate.with_value(|navigate| navigate(&url, Default::default()));
    };

    let deleted = RwSignal::new(0u32);
    let users = LocalResource::new(move || {
        let request = ListUsersQuery::from(&params.get());
        deleted.track();
        async move { api::list_users(&request).await }
    });

    // The search box updates the URL once typing pauses.
    let search = RwSignal::new(params.get_untracked().q.unwrap_or_default());
    let typed = StoredValue::new(0u64);
    let on_search = move |value: String| {
        search.set(value.clone());
        let ticket = typed.get_value() + 1;
        typed.set_value(ticket);
        set_timeout(
            move || {
                if typed.get_value() == ticket {
                    let q = value.trim().to_owned();
                    go(&|p| {
                        p.q = (!q.is_empty()).then(|| q.clone());
                        p.page = 1;
                    });
                }
            },
            std::time::Duration::from_millis(SEARCH_DELAY_MS),
        );
    };
    // Back/forward changes the URL: keep the box in step.
    Effect::new(move |_| {
        let q = params.get().q.unwrap_or_default();
        if search.get_untracked().trim() != q {
            search.set(q);
        }
    });

    let to_delete = RwSignal::new(None::<User>);
    let delete = Action::new_local(move |user: &User| {
        let user = user.clone();
        async move {
            match api::delete_user(user.id).await {
                Ok(()) => {
                    toasts.success(format!("Deleted {}.", user.username));
                    deleted.update(|n| *n += 1);
                }
                Err(e) => toasts.error(e.message()),
            }
        }
    });
    let confirm_message = Signal::derive(move || {
        to_delete.with(|u| {
            u.as_ref().map_or_else(String::new, |u| {
                format!(
                    "Delete {} ({} {})? This cannot be undone.",
                    u.username, u.first_name, u.last_name
                )
            })
        })
    });

    let sort_header = move |key: SortKey, label: &'static str| {
        let current = move || params.get().sort;
        let aria = move || match current() {
            Sort { key: k, descending } if k == key => {
                if descending {
                    "descending"
                } else {
                    "ascending"
                }
            }
            _ => "none",
        };
        view! {
            <th aria-sort=aria scope="col">
                <button type="button" class="sort" data-testid=format!("sort-{}", key.as_str())
                    on:click=move |_| {
                        let now = current();
                        let descending = now.key == key && !now.descending;
                        go(&|p| {
                            p.sort = Sort { key, descending };
                            p.page = 1;
                        });
                    }>
                    {label}
                    {move || match current() {
                        Sort { key: k, descending: false } if k == key => Some(view! { <Icon name=IconName::ChevronUp/> }),
                        Sort { key: k, descending: true } if k == key => Some(view! { <Icon name=IconName::ChevronDown/> }),
                        _ => None,
                    }}
                </button>
            </th>
        }
    };

    let table = move |page: UserPage| {
        if page.items.is_empty() {
            let text = match params.get_untracked().q {
                Some(q) => format!("No users match “{q}”."),
                None => "No users on this page.".to_owned(),
            };
            return view! { <p class="empty" data-testid="empty-state">{text}</p> }.into_any();
        }
        let is_admin = session.is_admin();
        let me = session.user_id();
        let rows = page
            .items
            .into_iter()
            .map(|user| {
                let can_edit = is_admin || me == Some(user.id);
                let role_class = match user.role {
                    Role::Admin => "badge badge-admin",
                    Role::User => "badge",
                };
                let edit_href = format!("/users/{}/edit", user.id);
                let delete_target = user.clone();
                view! {
                    <tr data-testid=format!("user-row-{}", user.username)>
                        <td data-label="Username"><strong>{user.username.clone()}</strong></td>
                        <td data-label="Name">{format!("{} {}", user.first_name, user.last_name)}</td>
                        <td data-label="Email">{user.email.clone()}</td>
                        <td data-label="Mobile">{user.mobile.clone()}</td>
                        <td data-label="Role">
                            <span class=role_class data-testid="role-badge">{user.role.as_str()}</span>
                            {user.disabled_at.is_some().then(|| view! { <span class="badge badge-danger" data-testid="disabled-badge">"disabled"</span> })}
                            {user.locked_until.is_some().then(|| view! { <span class="badge badge-warn" data-testid="locked-badge">"locked"</span> })}
                        </td>
                        <td data-label="Last login">{time_or_never(user.last_login_at)}</td>
                        <td class="row-actions">
                            {can_edit.then(|| view! {
                                <A href=edit_href attr:class="button small" attr:data-testid="edit-user"
                                    attr:aria-label=format!("Edit {}", user.username)>
                                    <Icon name=IconName::Edit/>
                                </A>
                            })}
                            {is_admin.then(|| view! {
                                <button type="button" class="button small danger" data-testid="delete-user"
                                    aria-label=format!("Delete {}", user.username)
                                    on:click=move |_| to_delete.set(Some(delete_target.clone()))>
                                    <Icon name=IconName::Trash/>
                                </button>
                            })}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="users">
                <thead>
                    <tr>
                        {sort_header(SortKey::Username, "Username")}
                        <th scope="col">"Name"</th>
                        {sort_header(SortKey::Email, "Email")}
                        <th scope="col">"Mobile"</th>
                        <th scope="col">"Role"</th>
                        {sort_header(SortKey::LastLoginAt, "Last login")}
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Users"</h1>
                <Show when=move || session.is_admin()>
                    <A href="/users/new" attr:class="button primary" attr:data-testid="add-user">
                        <Icon name=IconName::Plus/>" Add user"
                    </A>
                </Show>
            </div>
            <div class="toolbar">
                <label class="search">
                    <Icon name=IconName::Search/>
                    <span class="sr-only">"Search users"</span>
                    <input type="search" placeholder="Search name, username, email or mobile"
                        data-testid="search" prop:value=move || search.get()
                        on:input=move |ev| on_search(event_target_value(&ev))/>
                </label>
                <label>
                    <span class="sr-only">"Role"</span>
                    <select data-testid="role-filter"
                        prop:value=move || params.get().role.map_or("", |r| r.as_str())
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            go(&|p| {
                                p.role = Role::parse(&value).ok();
                                p.page = 1;
                            });
                        }>
                        <option value="">"All roles"</option>
                        <option value="admin">"Admins"</option>
                        <option value="user">"Users"</option>
                    </select>
                </label>
                <label>
                    <span class="sr-only">"Page size"</span>
                    <select data-testid="page-size"
                        prop:value=move || params.get().per_page.to_string()
                        on:change=move |ev| {
                            let size = event_target_value(&ev).parse().unwrap_or(ListUsers::DEFAULT_PER_PAGE);
                            go(&|p| {
                                p.per_page = size;
                                p.page = 1;
                            });
                        }>
                        {PAGE_SIZES.map(|n| view! { <option value=n.to_string()>{format!("{n} per page")}</option> })}
                    </select>
                </label>
            </div>
            <Transition fallback=|| view! { <p class="loading" data-testid="loading"><span class="spinner"></span>" Loading users…"</p> }>
                {move || users.get().map(|result| match result {
                    Ok(page) => {
                        let info = summary(&page);
                        let (current, per_page, total) = (page.page, page.per_page, page.total);
                        let last_page = total.div_ceil(per_page).max(1);
                        view! {
                            <p class="summary" data-testid="summary">{info}</p>
                            {table(page)}
                            <nav class="pager" aria-label="Pages">
                                <button type="button" class="button" data-testid="prev-page" disabled={ current <= 1 }
                                    on:click=move |_| go(&|p| p.page = current - 1)>"Previous"</button>
                                <span>{format!("Page {current} of {last_page}")}</span>
                                <button type="button" class="button" data-testid="next-page" disabled={ current >= last_page }
                                    on:click=move |_| go(&|p| p.page = current + 1)>"Next"</button>
                            </nav>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="alert" role="alert">{e.message()}</p> }.into_any(),
                })}
            </Transition>
            <ConfirmDialog
                open=to_delete
                title="Delete user"
                message=confirm_message
                confirm_label="Delete"
                on_confirm=Callback::new(move |user: User| { delete.dispatch(user); })
            />
        </section>
    }
}
