//! `POST /users/import`: accounts from a CSV file, upserted by username, with a
//! report line per row.

use serde::{Deserialize, Serialize};

use crate::common::string_enum;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// The columns, in any order; `password_hash` may be left out.
pub const IMPORT_COLUMNS: &[&str] = &[
    "username",
    "email",
    "first_name",
    "last_name",
    "mobile",
    "role",
    "password_hash",
];

/// The most rows one request takes (the app sends larger files in pieces).
pub const IMPORT_MAX_ROWS: usize = 10_000;

/// Query string of `POST /users/import`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(default)]
pub struct ImportQuery {
    /// Check every row and report what would happen, without writing anything.
    pub dry_run: bool,
}

string_enum!(
    /// What became of a row.
    ImportOutcome {
        Created => "created",
        Updated => "updated",
        /// Left out; `reason` says why (nothing else changes for it).
        Skipped => "skipped",
    }
);

/// One row of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportRow {
    /// The line in the file (the header is line 1).
    pub line: u64,
    pub username: String,
    pub outcome: ImportOutcome,
    pub reason: Option<String>,
}

/// The answer to an import: counts and a line per row, in file order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportReport {
    pub dry_run: bool,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub rows: Vec<ImportRow>,
}

impl ImportReport {
    pub fn new(dry_run: bool, rows: Vec<ImportRow>) -> Self {
        let count = |o| rows.iter().filter(|r| r.outcome == o).count() as u64;
        Self {
            dry_run,
            created: count(ImportOutcome::Created),
            updated: count(ImportOutcome::Updated),
            skipped: count(ImportOutcome::Skipped),
            rows,
        }
    }

    /// The report as CSV (`line,username,outcome,reason`), to download.
    pub fn to_csv(&self) -> String {
        let quote = |v: &str| {
            if v.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", v.replace('"', "\"\""))
            } else {
                v.to_owned()
            }
        };
        let mut out = String::from("line,username,outcome,reason\n");
        for row in &self.rows {
            out.push_str(&format!(
                "{},{},{},{}\n",
                row.line,
                quote(&row.username),
                row.outcome,
                quote(row.reason.as_deref().unwrap_or_default())
            ));
        }
        out
    }
}
