//! The dashboard's toolbar: search, role filter and page size. Each change goes back
//! to the page to be put in the URL, on page 1.

use leptos::prelude::*;
use shared::{ListUsers, Role};

use crate::components::icons::{Icon, IconName};

const PAGE_SIZES: [u64; 4] = [10, 20, 50, 100];
const SEARCH_DELAY_MS: u64 = 300;

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
    let typed = StoredValue::new(0u64);
    let on_search = move |value: String| {
        search.set(value.clone());
        let ticket = typed.get_value() + 1;
        typed.set_value(ticket);
        set_timeout(
            move || {
                if typed.get_value() == ticket {
                    let q = value.trim().to_owned();
                    change(&|l| l.q = (!q.is_empty()).then(|| q.clone()));
                }
            },
            std::time::Duration::from_millis(SEARCH_DELAY_MS),
        );
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
