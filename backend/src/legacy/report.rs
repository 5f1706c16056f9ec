//! The import's report: one line per legacy row, written as CSV.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// What happened to one legacy row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Imported,
    Skipped,
    AlreadyImported,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Imported => "imported",
            Outcome::Skipped => "skipped",
            Outcome::AlreadyImported => "already imported",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub legacy_id: i32,
    pub username: String,
    pub outcome: Outcome,
    /// Why it was skipped, or what was adjusted on the way in.
    pub notes: Vec<String>,
}

/// Everything the import did (or, in a dry run, would do).
#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<Line>,
    pub dry_run: bool,
}

impl Report {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.lines.iter().filter(|l| l.outcome == outcome).count()
    }

    /// One line for the terminal.
    pub fn summary(&self) -> String {
        let imported = self.count(Outcome::Imported);
        let with_notes = self
            .lines
            .iter()
            .filter(|l| l.outcome == Outcome::Imported && !l.notes.is_empty())
            .count();
        format!(
            "{}{} rows read: {imported} imported ({with_notes} with notes), {} skipped, {} already imported",
            if self.dry_run {
                "dry run, nothing written: "
            } else {
                ""
            },
            self.lines.len(),
            self.count(Outcome::Skipped),
            self.count(Outcome::AlreadyImported),
        )
    }

    /// The report as CSV: `legacy_id,username,outcome,notes`.
    pub fn to_csv(&self) -> anyhow::Result<String> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(["legacy_id", "username", "outcome", "notes"])?;
        for line in &self.lines {
            out.write_record([
                line.legacy_id.to_string(),
                line.username.clone(),
                line.outcome.to_string(),
                line.notes.join("; "),
            ])?;
        }
        Ok(String::from_utf8(out.into_inner()?)?)
    }

    pub fn write_csv(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, self.to_csv()?)
            .with_context(|| format!("could not write the report to {}", path.display()))
    }
}

/// Where the report goes when `--report` is not given.
pub fn default_report_path(data_dir: &Path) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    data_dir.join(format!("import-legacy-{stamp}.csv"))
}
