//! Handing text over to the user: as a file to download (a `blob:` URL, since the CSP
//! allows no data fetched back from one), or onto the clipboard.

use crate::components::toast::Toasts;

/// A `blob:` URL of `text` with the type `mime`, for a download link; the caller
/// revokes it when the link goes.
pub fn file_url(text: &str, mime: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// Copies `text` to the clipboard and says how it went: `copied` or, when the
/// browser refuses, `failed`.
pub fn copy(text: &str, toasts: Toasts, copied: &'static str, failed: &'static str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let promise = window.navigator().clipboard().write_text(text);
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => toasts.success(copied),
            Err(_) => toasts.error(failed),
        }
    });
}
