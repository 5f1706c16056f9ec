//! "Previous", "Page 2 of 7", "Next" under a paged list.

use leptos::prelude::*;

/// The pager for page `page` of `total` items, `per_page` to a page; `on_page` gets
/// the page asked for.
#[component]
pub fn Pager(
    page: u64,
    per_page: u64,
    total: u64,
    on_page: Callback<u64>,
    /// `total` is a capped count: there are more pages than it shows.
    #[prop(optional)]
    more: bool,
    /// Whether a page follows, when the list says so itself (cursor paging) rather
    /// than `total` telling.
    #[prop(optional)]
    has_next: Option<bool>,
    /// Gives the buttons the `prev-page` and `next-page` test ids.
    #[prop(optional)]
    testids: bool,
) -> impl IntoView {
    let last = total.div_ceil(per_page).max(1);
    let at_end = !has_next.unwrap_or(page < last);
    let testid = move |id: &'static str| testids.then_some(id);
    view! {
        <nav class="pager" aria-label="Pages">
            <button type="button" class="button" data-testid=testid("prev-page") disabled={ page <= 1 }
                on:click=move |_| on_page.run(page - 1)>"Previous"</button>
            <span>{format!("Page {page} of {last}{}", if more { "+" } else { "" })}</span>
            <button type="button" class="button" data-testid=testid("next-page") disabled=at_end
                on:click=move |_| on_page.run(page + 1)>"Next"</button>
        </nav>
    }
}
