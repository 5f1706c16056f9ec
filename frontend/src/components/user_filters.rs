//! The dashboard's toolbar: search, sort (on narrow screens), role filter and page size.
//! Each change goes back to the page to be put in the URL, on page 1.

use std::time::Duration;

use leptos::prelude::*;
use shared::{ListUsers, Role, Sort, SortKey};

use crate::components::icons::{Icon, IconName};
use crate::components::user_table::may_sort;
use crate::hooks::use_timer;

const PAGE_SIZES: [u64; 4] = [10, 20, 50, 100];
/// The orders the sort control offers, in the words a person would use.
const SORTS: [(Sort, &str); 8] = [
    (sort(SortKey::CreatedAt, true), "Newest first"),
    (sort(SortKey::CreatedAt, false), "Oldest first"),
    (sort(SortKey::Username, false), "Username A–Z"),
    (sort(SortKey::Username, true), "Username Z–A"),
    (sort(SortKey::Email, false), "Email A–Z"),
    (sort(SortKey::Email, true), "Email Z–A"),
    (sort(SortKey::LastLoginAt, true), "Last login, latest first"),
    (
        sort(SortKey::LastLoginAt, false),
        "Last login, earliest first",
    ),
];

const fn sort(key: SortKey, descending: bool) -> Sort {
    Sort { key, descending }
}

const SEARCH_DELAY: Duration = Duration::from_millis(300);

/// Controls for `list` (the URL's); `on_change` gets the list to show next.
/// `names_only`: the search matches names only (the viewer is not an admin).
#[component]
pub fn UserFilters(
    list: Memo<ListUsers>,
    on_change: Callback<ListUsers>,
    #[prop(optional)] names_only: bool,
) -> impl IntoView {
    let change = move |edit: &dyn Fn(&mut ListUsers)| {
        let mut next = list.get_untracked();
        edit(&mut next);
        next.page = 1;
        next.cursor = None;
        on_change.run(next);
    };

    // The search box updates the URL once typing pauses.
    let search = RwSignal::new(list.get_untracked().q.unwrap_or_default());
    let pause = use_timer();
    let on_search = move |value: String| {
        search.set(value.clone());
        pause.schedule(SEARCH_DELAY, move || {
            let q = value.trim().to_owned();
            change(&|l| l.q = (!q.is_empty()).then(|| q.clone()));
        });
    };
    // Back/forward changes the URL: keep the box in step.
    Effect::new(move |_| {
        let q = list.get().q.unwrap_or_default();
        if search.get_untracked().trim() != q {
            search.set(q);
        }
    });

    let placeholder = if names_only {
        "Search name or username"
    } else {
        "Search name, username, email or mobile"
    };

    view! {
        <div class="toolbar">
            <label class="search">
                <Icon name=IconName::Search/>
                <span class="sr-only">"Search users"</span>
                <input type="search" placeholder=placeholder
                    data-testid="search" prop:value=move || search.get()
                    on:input=move |ev| on_search(event_target_value(&ev))/>
            </label>
            // The table's headers sort on a wide screen; the cards of a narrow one
            // have none, so this does (CSS shows it there only).
            <label class="sort-control">
                <span class="sr-only">"Sort by"</span>
                <select data-testid="sort-select"
                    prop:value=move || list.get().sort.to_string()
                    on:change=move |ev| {
                        if let Ok(sort) = Sort::parse(&event_target_value(&ev)) {
                            change(&|l| l.sort = sort);
                        }
                    }>
                    {SORTS
                        .iter()
                        .filter(|(sort, _)| may_sort(sort.key, !names_only))
                        .map(|(sort, label)| view! { <option value=sort.to_string()>{*label}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                <span class="sr-only">"Role"</span>
                <select data-testid="role-filter"
                    prop:value=move || list.get().role.map_or("", |r| r.as_str())
                    on:change=move |ev| {
                        let role = Role::parse(&event_target_value(&ev)).ok();
                        change(&|l| l.role = role);
                    }>
                    <option value="">"All roles"</option>
                    <option value=Role::Admin.as_str()>"Admins"</option>
                    <option value=Role::User.as_str()>"Users"</option>
                </select>
            </label>
            <label>
                <span class="sr-only">"Page size"</span>
                <select data-testid="page-size"
                    prop:value=move || list.get().per_page.to_string()
                    on:change=move |ev| {
                        let size = event_target_value(&ev).parse().unwrap_or(ListUsers::DEFAULT_PER_PAGE);
                        change(&|l| l.per_page = size);
                    }>
                    {PAGE_SIZES.map(|n| view! { <option value=n.to_string()>{format!("{n} per page")}</option> })}
                </select>
            </label>
        </div>
    }
}
