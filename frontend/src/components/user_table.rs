//! The dashboard's table of users, with sortable columns and each row's actions, and
//! the confirmation its delete buttons ask for.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{Role, Sort, SortKey, User};

use crate::components::avatar::Avatar;
use crate::components::bulk::Selection;
use crate::components::confirm::ConfirmDialog;
use crate::components::icons::{Icon, IconName};
use crate::format::{self, time_or_never};

/// `users` sorted by `sort`; a header click asks `on_sort` for another order. `admin`
/// and `me` (the viewer) decide which row actions show; `on_delete` gets the user
/// whose delete button was pressed. With `selected` (admins), a first column of
/// checkboxes fills it, for the bulk actions.
#[component]
pub fn UserTable(
    users: Vec<User>,
    sort: Signal<Sort>,
    on_sort: Callback<Sort>,
    on_delete: Callback<User>,
    admin: bool,
    me: Option<i32>,
    #[prop(default = None)] selected: Option<Selection>,
) -> impl IntoView {
    let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
    let header = move |key: SortKey, label: &'static str| {
        if may_sort(key, admin) {
            view! { <SortHeader key=key label=label sort=sort on_sort=on_sort/> }.into_any()
        } else {
            view! { <th scope="col">{label}</th> }.into_any()
        }
    };
    let rows = users
        .into_iter()
        .map(|user| {
            let select = selected
                .map(|selected| view! { <SelectCell user=user.clone() selected=selected/> });
            view! { <UserRow user=user admin=admin me=me on_delete=on_delete select=select/> }
        })
        .collect_view();
    view! {
        <table class="users">
            <thead>
                <tr>
                    {selected.map(|selected| view! { <SelectAllCell ids=ids selected=selected/> })}
                    {header(SortKey::Username, "Username")}
                    <th scope="col">"Name"</th>
                    {header(SortKey::Email, "Email")}
                    <th scope="col">"Mobile"</th>
                    <th scope="col">"Role"</th>
                    {header(SortKey::LastLoginAt, "Last login")}
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Whether the list may be sorted by `key`: others than admins see no addresses or
/// last logins of other accounts (the server refuses those orders), so only by name
/// and age.
pub fn may_sort(key: SortKey, admin: bool) -> bool {
    admin || matches!(key, SortKey::Username | SortKey::CreatedAt)
}

/// What a cell shows for a value the viewer may not see (or that is not set).
const HIDDEN: &str = "—";

/// A column header that sorts by `key`: ascending first, then flipping.
#[component]
fn SortHeader(
    key: SortKey,
    label: &'static str,
    sort: Signal<Sort>,
    on_sort: Callback<Sort>,
) -> impl IntoView {
    let direction = move || match sort.get() {
        Sort { key: k, descending } if k == key => Some(descending),
        _ => None,
    };
    let aria = move || match direction() {
        Some(true) => "descending",
        Some(false) => "ascending",
        None => "none",
    };
    view! {
        <th aria-sort=aria scope="col">
            <button type="button" class="sort" data-testid=format!("sort-{}", key.as_str())
                on:click=move |_| {
                    let now = sort.get();
                    let descending = now.key == key && !now.descending;
                    on_sort.run(Sort { key, descending });
                }>
                {label}
                {move || match direction() {
                    Some(false) => Some(view! { <Icon name=IconName::ChevronUp/> }),
                    Some(true) => Some(view! { <Icon name=IconName::ChevronDown/> }),
                    None => None,
                }}
            </button>
        </th>
    }
}

#[component]
fn UserRow(
    user: User,
    admin: bool,
    me: Option<i32>,
    on_delete: Callback<User>,
    select: Option<impl IntoView + 'static>,
) -> impl IntoView {
    let can_edit = admin || me == Some(user.id);
    // Others' last logins are hidden from non-admins: no value there is not "Never".
    let last_login = match user.last_login_at {
        Some(at) => format::time(at),
        None if can_edit => time_or_never(None),
        None => HIDDEN.to_owned(),
    };
    let role_class = match user.role {
        Role::Admin => "badge badge-admin",
        Role::User => "badge",
    };
    let edit_href = format!("/users/{}/edit", user.id);
    let delete_target = user.clone();
    view! {
        <tr data-testid=format!("user-row-{}", user.username)>
            {select}
            <td data-label="Username">
                <span class="user-cell"><Avatar user=user.clone()/><strong>{user.username.clone()}</strong></span>
            </td>
            <td data-label="Name">{format!("{} {}", user.first_name, user.last_name)}</td>
            <td data-label="Email">{user.email.clone().unwrap_or_else(|| HIDDEN.to_owned())}</td>
            <td data-label="Mobile">{user.mobile.clone().unwrap_or_else(|| HIDDEN.to_owned())}</td>
            <td data-label="Role">
                <span class=role_class data-testid="role-badge">{user.role.as_str()}</span>
                {user.disabled_at.is_some().then(|| view! { <span class="badge badge-danger" data-testid="disabled-badge">"disabled"</span> })}
                {user.locked_until.is_some().then(|| view! { <span class="badge badge-warn" data-testid="locked-badge">"locked"</span> })}
            </td>
            <td data-label="Last login">{last_login}</td>
            <td class="row-actions">
                {can_edit.then(|| view! {
                    <A href=edit_href attr:class="button small" attr:data-testid="edit-user"
                        attr:aria-label=format!("Edit {}", user.username)>
                        <Icon name=IconName::Edit/>
                    </A>
                })}
                {admin.then(|| view! {
                    <button type="button" class="button small danger" data-testid="delete-user"
                        aria-label=format!("Delete {}", user.username)
                        on:click=move |_| on_delete.run(delete_target.clone())>
                        <Icon name=IconName::Trash/>
                    </button>
                })}
            </td>
        </tr>
    }
}

/// The header's checkbox: ticks or clears every user on the page.
#[component]
fn SelectAllCell(ids: Vec<i32>, selected: Selection) -> impl IntoView {
    let ids = StoredValue::new(ids);
    let all = move || {
        ids.with_value(|ids| {
            selected.with(|s| !ids.is_empty() && ids.iter().all(|id| s.contains(id)))
        })
    };
    let toggle = move |_| {
        let tick = !all();
        selected.update(|s| {
            for id in ids.get_value() {
                if tick {
                    s.insert(id);
                } else {
                    s.remove(&id);
                }
            }
        });
    };
    view! {
        <th scope="col" class="select">
            <input type="checkbox" data-testid="select-all" aria-label="Select every user on this page"
                prop:checked=all on:change=toggle/>
        </th>
    }
}

/// A row's checkbox.
#[component]
fn SelectCell(user: User, selected: Selection) -> impl IntoView {
    let id = user.id;
    view! {
        <td class="select">
            <input type="checkbox" data-testid=format!("select-{}", user.username)
                aria-label=format!("Select {}", user.username)
                prop:checked=move || selected.with(|s| s.contains(&id))
                on:change=move |_| selected.update(|s| {
                    if !s.remove(&id) {
                        s.insert(id);
                    }
                })/>
        </td>
    }
}

/// Asks before deleting the user `open` holds; `on_confirm` gets them on "Delete".
#[component]
pub fn DeleteUserDialog(open: RwSignal<Option<User>>, on_confirm: Callback<User>) -> impl IntoView {
    let message = Signal::derive(move || {
        open.with(|u| {
            u.as_ref().map_or_else(String::new, |u| {
                format!(
                    "Delete {} ({} {})? This cannot be undone.",
                    u.username, u.first_name, u.last_name
                )
            })
        })
    });
    view! {
        <ConfirmDialog
            open=open
            title="Delete user"
            message=message
            confirm_label="Delete"
            on_confirm=on_confirm
        />
    }
}
