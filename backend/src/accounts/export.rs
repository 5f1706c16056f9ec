//! The account list as CSV: every account a list with the same search, filter and
//! sort would show, read a chunk at a time along the list's cursors (so memory stays
//! flat and no query gets slower with depth; nothing is counted), written as UTF-8 with a header row.
//! The first six columns are those the import takes, so an export can be edited and
//! imported again.

use chrono::{DateTime, SecondsFormat, Utc};
use futures::Stream;
use sea_orm::{DatabaseConnection, DbErr};
use shared::{Cursor, ListUsers};

use super::ListScope;
use super::query::{Total, read_page};
use crate::db::entity::user;

/// The header row, in column order.
pub const COLUMNS: [&str; 12] = [
    "username",
    "email",
    "first_name",
    "last_name",
    "mobile",
    "role",
    "id",
    "email_verified",
    "created_at",
    "updated_at",
    "last_login_at",
    "disabled_at",
];

/// Accounts read per query.
pub const CHUNK: u64 = 500;

/// The CSV of every account `params` (its search, role filter and sort; its paging is
/// ignored) finds in `scope`, as chunks of bytes: the header first, then one chunk per
/// [`CHUNK`] accounts.
pub fn csv(
    db: DatabaseConnection,
    mut params: ListUsers,
    scope: ListScope,
) -> impl Stream<Item = Result<Vec<u8>, DbErr>> {
    params.page = 1;
    params.per_page = CHUNK;
    params.cursor = None;
    let header = Some(write(|out| out.write_record(COLUMNS)));
    let start = Walk::At(None);
    futures::stream::unfold(
        (db, params, scope, header, start),
        |(db, mut params, scope, header, walk)| async move {
            if let Some(header) = header {
                return Some((Ok(header), (db, params, scope, None, walk)));
            }
            let Walk::At(cursor) = walk else {
                return None;
            };
            params.cursor = cursor;
            match read_page(&db, &params, scope, Total::Skipped).await {
                Ok(page) => {
                    let next = page.next.map_or(Walk::Done, |c| Walk::At(Some(c)));
                    let chunk = write(|out| page.items.iter().try_for_each(|u| row(out, u)));
                    Some((Ok(chunk), (db, params, scope, None, next)))
                }
                Err(err) => Some((Err(err), (db, params, scope, None, Walk::Done))),
            }
        },
    )
}

/// Where the export stands: the next chunk starts after this cursor (`None`: at the
/// start), or everything was read.
enum Walk {
    At(Option<Cursor>),
    Done,
}

fn write(fill: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail but for a bug; an empty chunk is the safe answer.
    if fill(&mut out).is_err() {
        return Vec::new();
    }
    out.into_inner().unwrap_or_default()
}

fn row(out: &mut csv::Writer<Vec<u8>>, user: &user::Model) -> csv::Result<()> {
    let time = |at: Option<DateTime<Utc>>| {
        at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    out.write_record([
        text(&user.username),
        text(&user.email),
        text(&user.first_name),
        text(&user.last_name),
        // Stored as `+` and digits only: at most a number to a spreadsheet.
        user.mobile.clone(),
        user.role.as_str().to_owned(),
        user.id.to_string(),
        user.email_verified_at.is_some().to_string(),
        time(Some(user.created_at)),
        time(Some(user.updated_at)),
        time(user.last_login_at),
        time(user.disabled_at),
    ])
}

/// A value a person typed, made safe to open in a spreadsheet: one that would start
/// a formula (`=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`.
fn text(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn values_that_would_start_a_formula_are_quoted() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("+447700900123"), "'+447700900123");
        assert_eq!(text("@sum"), "'@sum");
        assert_eq!(text("Ada"), "Ada");
        assert_eq!(text("O'Brien"), "O'Brien");
        assert_eq!(text(""), "");
    }
}
