//! Icons as inline SVG (outline style, after the MIT-licensed Feather set), bundled in
//! the app so it works offline and needs no icon font or CDN.

use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum IconName {
    Users,
    Plus,
    Edit,
    Trash,
    LogOut,
    Search,
    Key,
    ChevronUp,
    ChevronDown,
    Check,
    Alert,
    Mail,
    Download,
}

fn markup(name: IconName) -> &'static str {
    match name {
        IconName::Download => {
            r#"<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/><polyline points="7 10 12 15 17 10"/><line x1="12" y1="15" x2="12" y2="3"/>"#
        }
        IconName::Users => {
            r#"<path d="M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2"/><circle cx="9" cy="7" r="4"/><path d="M23 21v-2a4 4 0 0 0-3-3.87"/><path d="M16 3.13a4 4 0 0 1 0 7.75"/>"#
        }
        IconName::Plus => {
            r#"<line x1="12" y1="5" x2="12" y2="19"/><line x1="5" y1="12" x2="19" y2="12"/>"#
        }
        IconName::Edit => r#"<path d="M17 3a2.83 2.83 0 1 1 4 4L7.5 20.5 2 22l1.5-5.5L17 3z"/>"#,
        IconName::Trash => {
            r#"<polyline points="3 6 5 6 21 6"/><path d="M19 6v14a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V6m3 0V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2"/>"#
        }
        IconName::LogOut => {
            r#"<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><polyline points="16 17 21 12 16 7"/><line x1="21" y1="12" x2="9" y2="12"/>"#
        }
        IconName::Search => {
            r#"<circle cx="11" cy="11" r="8"/><line x1="21" y1="21" x2="16.65" y2="16.65"/>"#
        }
        IconName::Key => {
            r#"<circle cx="7.5" cy="15.5" r="5.5"/><path d="M11.4 11.6 21 2m-3 3 3 3m-6-0 3 3"/>"#
        }
        IconName::ChevronUp => r#"<polyline points="18 15 12 9 6 15"/>"#,
        IconName::ChevronDown => r#"<polyline points="6 9 12 15 18 9"/>"#,
        IconName::Check => {
            r#"<path d="M22 11.08V12a10 10 0 1 1-5.93-9.14"/><polyline points="22 4 12 14.01 9 11.01"/>"#
        }
        IconName::Alert => {
            r#"<circle cx="12" cy="12" r="10"/><line x1="12" y1="8" x2="12" y2="12"/><line x1="12" y1="16" x2="12.01" y2="16"/>"#
        }
        IconName::Mail => {
            r#"<path d="M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/><polyline points="22 6 12 13 2 6"/>"#
        }
    }
}

/// A decorative icon; the control it sits in carries the accessible name.
#[component]
pub fn Icon(name: IconName) -> impl IntoView {
    view! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
            inner_html=markup(name)
        ></svg>
    }
}
