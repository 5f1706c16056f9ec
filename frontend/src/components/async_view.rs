//! The one way a screen shows data it is loading: a spinner until the first answer,
//! the previous answer while a new one loads, and the error's message if the call
//! failed.

use leptos::prelude::*;

use crate::api::ApiError;

/// Renders `children` with the loaded value of `resource`.
#[component]
pub fn AsyncView<T, F, V>(
    resource: LocalResource<Result<T, ApiError>>,
    children: F,
    /// What is loading, e.g. "Loading users…".
    #[prop(default = "Loading…")]
    loading: &'static str,
    #[prop(optional)] loading_testid: Option<&'static str>,
    #[prop(optional)] error_testid: Option<&'static str>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=move || view! {
            <p class="loading" data-testid=loading_testid><span class="spinner"></span>{format!(" {loading}")}</p>
        }>
            // `try_get`: an answer that lands while the screen is being taken down
            // (a logout just after the screen asked) finds the resource gone.
            {move || resource.try_get().flatten().map(|result| match result {
                Ok(value) => children(value).into_any(),
                Err(e) => view! { <p class="alert" role="alert" data-testid=error_testid>{e.message()}</p> }.into_any(),
            })}
        </Transition>
    }
}
