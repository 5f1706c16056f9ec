//! A modal confirmation dialog (native `<dialog>`: focus is trapped and Escape closes).

use leptos::html::Dialog;
use leptos::prelude::*;

/// Shows `message` while `open` holds `Some`; calls `on_confirm` with it on "confirm".
#[component]
pub fn ConfirmDialog<T>(
    open: RwSignal<Option<T>>,
    title: &'static str,
    message: Signal<String>,
    confirm_label: &'static str,
    on_confirm: Callback<T>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let dialog = NodeRef::<Dialog>::new();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if open.with(Option::is_some) {
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });
    view! {
        <dialog node_ref=dialog class="dialog" aria-labelledby="dialog-title" data-testid="confirm-dialog"
            on:close=move |_| open.set(None)>
            <h2 id="dialog-title">{title}</h2>
            <p data-testid="confirm-message">{move || message.get()}</p>
            <div class="actions">
                <button type="button" class="button" on:click=move |_| open.set(None) data-testid="confirm-cancel">
                    "Cancel"
                </button>
                <button type="button" class="button primary danger" data-testid="confirm-ok"
                    on:click=move |_| {
                        if let Some(value) = open.get_untracked() {
                            open.set(None);
                            on_confirm.run(value);
                        }
                    }>
                    {confirm_label}
                </button>
            </div>
        </dialog>
    }
}
