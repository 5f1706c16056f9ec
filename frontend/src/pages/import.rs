//! `/users/import` (admins): choose a CSV file, try it as a dry run, import it, and
//! download the report. Large files go up in pieces of [`PIECE`] rows, so the bar
//! shows how far it got and no request grows with the file.

use leptos::prelude::*;
use shared::{IMPORT_COLUMNS, ImportOutcome, ImportReport, ImportRow};
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};

use crate::api;
use crate::components::toast::use_toasts;
use crate::share;

/// Data rows per request.
const PIECE: usize = 1_000;

/// The file split into pieces that each repeat the header; line numbers of a piece
/// start after those before it. Names and addresses hold no line breaks, so a line
/// is a row.
fn pieces(text: &str) -> Vec<String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let rows: Vec<&str> = lines.collect();
    if rows.is_empty() {
        return vec![format!("{header}\n")];
    }
    rows.chunks(PIECE)
        .map(|chunk| format!("{header}\n{}\n", chunk.join("\n")))
        .collect()
}

/// Reports of the pieces as one, with the lines counted through the whole file.
fn merge(dry_run: bool, reports: Vec<ImportReport>) -> ImportReport {
    let mut rows: Vec<ImportRow> = Vec::new();
    for (n, report) in reports.into_iter().enumerate() {
        let offset = (n * PIECE) as u64;
        rows.extend(report.rows.into_iter().map(|mut row| {
            row.line += offset;
            row
        }));
    }
    ImportReport::new(dry_run, rows)
}

async fn read_text(file: &File) -> Result<String, String> {
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(|_| "The file could not be read.".to_owned())?;
    text.as_string()
        .ok_or_else(|| "The file is not text.".to_owned())
}

/// A `blob:` URL of the report as CSV, for the download link.
fn report_url(report: &ImportReport) -> Option<String> {
    share::file_url(&report.to_csv(), "text/csv")
}

/// "Created 3, updated 1, skipped 2." (or what a dry run would do).
fn summary(report: &ImportReport) -> String {
    let (create, update) = match report.dry_run {
        true => ("Would create", "would update"),
        false => ("Created", "updated"),
    };
    format!(
        "{create} {}, {update} {}, skipped {}.",
        report.created, report.updated, report.skipped
    )
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let toasts = use_toasts();
    let file = StoredValue::new_local(None::<File>);
    let chosen = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<(usize, usize)>);
    let report = RwSignal::new(None::<ImportReport>);
    let download = RwSignal::new(None::<String>);
    let on_choose = move |ev: leptos::ev::Event| {
        let input = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok());
        let picked = input.and_then(|i| i.files()).and_then(|f| f.get(0));
        chosen.set(picked.as_ref().map(File::name));
        file.set_value(picked);
        report.set(None);
    };
    let run = Action::new_local(move |dry_run: &bool| {
        let dry_run = *dry_run;
        let picked = file.get_value();
        async move {
            let Some(picked) = picked else { return };
            let text = match read_text(&picked).await {
                Ok(text) => text,
                Err(e) => return toasts.error(e),
            };
            let pieces = pieces(&text);
            let total = pieces.len();
            let mut reports = Vec::new();
            for (n, piece) in pieces.into_iter().enumerate() {
                progress.try_set(Some((n, total)));
                match api::import_users(piece, dry_run).await {
                    Ok(answer) => reports.push(answer),
                    Err(e) => {
                        progress.try_set(None);
                        return toasts.error(e.message());
                    }
                }
            }
            progress.try_set(None);
            let merged = merge(dry_run, reports);
            if let Some(old) = download.try_get_untracked().flatten() {
                let _ = web_sys::Url::revoke_object_url(&old);
            }
            download.try_set(report_url(&merged));
            toasts.success(summary(&merged));
            report.try_set(Some(merged));
        }
    });
    let busy = run.pending();
    let ready = move || chosen.with(Option::is_some) && !busy.get();
    view! {
        <section class="page">
            <h1>"Import users"</h1>
            <div class="card narrow">
                <p>"A CSV file with the columns "<code>{IMPORT_COLUMNS.join(", ")}</code>
                    " (the last one optional: a bcrypt or argon2 hash). Accounts are matched by username. \
                    Try a dry run first: it reports every row and writes nothing."</p>
                <div class="field">
                    <label for="import-file">"CSV file"</label>
                    <input id="import-file" type="file" accept=".csv,text/csv" data-testid="import-file"
                        on:change=on_choose/>
                </div>
                {move || progress.get().map(|(done, total)| view! {
                    <label class="progress">
                        <span>{format!("Piece {} of {total}…", done + 1)}</span>
                        <progress max=total.to_string() value=done.to_string() data-testid="import-progress"></progress>
                    </label>
                })}
                <div class="actions">
                    <button type="button" class="button" data-testid="import-dry-run"
                        disabled=move || !ready() on:click=move |_| { run.dispatch(true); }>"Dry run"</button>
                    <button type="button" class="button primary" data-testid="import-run"
                        disabled=move || !ready() on:click=move |_| { run.dispatch(false); }>"Import"</button>
                </div>
            </div>
            {move || report.get().map(|report| view! { <Report report=report download=download.get()/> })}
        </section>
    }
}

/// The counts, the skipped rows with their reasons, and the download.
#[component]
fn Report(report: ImportReport, download: Option<String>) -> impl IntoView {
    let title = if report.dry_run {
        "Dry run: nothing was written"
    } else {
        "Imported"
    };
    let skipped: Vec<ImportRow> = report
        .rows
        .iter()
        .filter(|r| r.outcome == ImportOutcome::Skipped)
        .take(200)
        .cloned()
        .collect();
    view! {
        <div class="card" data-testid="import-report">
            <h2>{title}</h2>
            <p data-testid="import-counts">{format!(
                "{} created, {} updated, {} skipped", report.created, report.updated, report.skipped
            )}</p>
            {download.map(|href| view! {
                <a class="button" href=href download="import-report.csv" data-testid="import-download">"Download the report"</a>
            })}
            {(!skipped.is_empty()).then(|| view! {
                <table class="users">
                    <thead><tr><th scope="col">"Line"</th><th scope="col">"Username"</th><th scope="col">"Why skipped"</th></tr></thead>
                    <tbody>
                        {skipped.into_iter().map(|row| view! {
                            <tr data-testid="import-skipped">
                                <td data-label="Line">{row.line}</td>
                                <td data-label="Username">{row.username}</td>
                                <td data-label="Why skipped">{row.reason.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_go_up_in_pieces_with_the_header_and_lines_count_through() {
        let mut text = String::from("username,email\n");
        for n in 0..2_500 {
            text.push_str(&format!("u{n},u{n}@example.com\n"));
        }
        let parts = pieces(&text);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.starts_with("username,email\n")));
        assert_eq!(parts[2].lines().count(), 501);
        let row = |line| ImportRow {
            line,
            username: String::new(),
            outcome: ImportOutcome::Created,
            reason: None,
        };
        let part = |rows| ImportReport::new(false, rows);
        let merged = merge(false, vec![part(vec![row(2)]), part(vec![row(2), row(3)])]);
        let lines: Vec<u64> = merged.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 1_002, 1_003]);
        assert_eq!(merged.created, 3);
    }
}
