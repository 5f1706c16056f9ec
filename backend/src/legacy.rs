//! `backend import-legacy`: brings the old Python app's accounts across.
//!
//! The old `users` table is read in id order, a batch at a time. Each row is kept
//! whole where it can be stored safely, else skipped, and either way listed in the
//! report with the reason:
//! - bcrypt hashes (`$2a$`, `$2b$`, `$2y$`) are kept and verified at login, where they
//!   are replaced by argon2id; plain-text passwords are hashed now; security answers
//!   are hashed; pending OTPs are dropped.
//! - Values that break today's rules but fit the columns (a short username, an email
//!   without a top-level domain) are kept; the rule applies when the field next
//!   changes. Passwords are not re-checked against today's policy.
//! - A row is skipped when it cannot be stored without losing or merging data: no
//!   username, email, mobile or password, or a username, email or mobile that another
//!   row or an existing account already has once case and formatting are ignored.
//!
//! Each imported row's old id is recorded (`legacy_imports`), so a re-run skips it,
//! even after the account was deleted: the import is idempotent. A dry run reads
//! everything, writes nothing and prints the report.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use sea_orm::{
    ColumnTrait, Condition, ConnectOptions, Database, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, Set, Statement,
};
use secrecy::SecretString;
use shared::Role;
use shared::validate::{Email, Mobile, PersonName, SecurityAnswer, Username};

use crate::auth::password::Passwords;
use crate::database;
use crate::entity::legacy_import::{self, Entity as LegacyImports};
use crate::entity::user::{self, Column, Entity as Users};
use crate::users::{self as accounts, now};

/// Rows read and written per round trip.
const BATCH: u64 = 500;

/// One row of the old app's `users` table.
#[derive(Debug, Clone, FromQueryResult)]
struct LegacyRow {
    id: i32,
    first_name: Option<String>,
    last_name: Option<String>,
    username: Option<String>,
    email: Option<String>,
    mobile: Option<String>,
    password: Option<String>,
    security_question: Option<String>,
    security_answer: Option<String>,
    otp: Option<String>,
}

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

/// A row that passed the checks, ready to hash and insert.
struct Candidate {
    legacy_id: i32,
    /// As the old table had it, for the report.
    original_username: String,
    first_name: String,
    last_name: String,
    username: String,
    email: String,
    mobile: String,
    password: Password,
    security_question: Option<String>,
    security_answer: Option<String>,
    notes: Vec<String>,
}

enum Password {
    /// A bcrypt hash made by passlib: stored as it is.
    Bcrypt(String),
    /// Plain text: hashed to argon2id before it is stored.
    Plain(String),
}

fn is_bcrypt_hash(value: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| value.starts_with(p))
        && value.parse::<bcrypt::HashParts>().is_ok()
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Checks one row on its own; `Err` holds the reason it must be skipped.
fn check(row: &LegacyRow) -> Result<Candidate, String> {
    let mut notes = Vec::new();
    let username = present(&row.username).ok_or("no username")?.to_lowercase();
    if username.chars().count() > 50 {
        return Err("the username is longer than 50 characters".to_owned());
    }
    if Username::parse(&username).is_err() {
        notes.push(format!(
            "username '{username}' breaks today's rules (kept; they apply when it changes)"
        ));
    }
    let email = present(&row.email).ok_or("no email")?.to_lowercase();
    if Email::parse(&email).is_err() {
        notes.push(format!(
            "email '{email}' breaks today's rules (kept; the user should correct it)"
        ));
    }
    let raw_mobile = present(&row.mobile).ok_or("no mobile number")?;
    let mobile = match Mobile::parse(raw_mobile) {
        Ok(mobile) => mobile.into_inner(),
        Err(_) => {
            notes.push(format!(
                "mobile '{raw_mobile}' breaks today's rules (kept as it was)"
            ));
            raw_mobile.to_owned()
        }
    };
    let password = match present(&row.password) {
        None => return Err("no password".to_owned()),
        Some(hash) if is_bcrypt_hash(hash) => Password::Bcrypt(hash.to_owned()),
        // Not trimmed: spaces may be part of a plain-text password.
        Some(_) => {
            notes.push("plain-text password hashed".to_owned());
            Password::Plain(row.password.clone().unwrap_or_default())
        }
    };
    let mut name = |label: &str, value: &Option<String>| -> String {
        let name = present(value).unwrap_or_default();
        if PersonName::parse(name).is_err() {
            notes.push(format!("{label} '{name}' breaks today's rules (kept)"));
        }
        name.chars().take(PersonName::MAX).collect()
    };
    let first_name = name("first name", &row.first_name);
    let last_name = name("last name", &row.last_name);
    let security_question = present(&row.security_question).map(str::to_owned);
    let security_answer = present(&row.security_answer).map(SecurityAnswer::normalize);
    if security_question.is_none() || security_answer.is_none() {
        notes.push("no security question and answer: password recovery needs them".to_owned());
    }
    if present(&row.otp).is_some() {
        notes.push("pending OTP dropped".to_owned());
    }
    Ok(Candidate {
        legacy_id: row.id,
        original_username: row.username.clone().unwrap_or_default(),
        first_name,
        last_name,
        username,
        email,
        mobile,
        password,
        security_question,
        security_answer,
        notes,
    })
}

/// Values already taken, by the field they belong to.
#[derive(Default)]
struct Taken {
    /// (field, value) -> who has it: "row 7" or "an existing account".
    owners: HashMap<(&'static str, String), String>,
}

impl Taken {
    fn conflict(&self, candidate: &Candidate) -> Option<String> {
        [
            ("username", &candidate.username),
            ("email", &candidate.email),
            ("mobile", &candidate.mobile),
        ]
        .into_iter()
        .find_map(|(field, value)| {
            self.owners
                .get(&(field, value.clone()))
                .map(|owner| format!("{field} '{value}' is already used by {owner}"))
        })
    }

    fn claim(&mut self, candidate: &Candidate) {
        let owner = format!("legacy row {}", candidate.legacy_id);
        for (field, value) in [
            ("username", &candidate.username),
            ("email", &candidate.email),
            ("mobile", &candidate.mobile),
        ] {
            self.owners.insert((field, value.clone()), owner.clone());
        }
    }
}

/// Imports from the database at `from` into `db`.
pub async fn import(
    db: &DatabaseConnection,
    passwords: &Passwords,
    from: &str,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let mut options = ConnectOptions::new(from);
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .max_connections(2)
        .sqlx_logging(false);
    let legacy = Database::connect(options)
        .await
        .context("could not connect to the legacy database (--from)")?;
    let mut report = Report {
        dry_run,
        ..Report::default()
    };
    let mut taken = Taken::default();
    let mut after = 0;
    loop {
        let rows = read_batch(&legacy, after).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        import_batch(db, passwords, rows, &mut taken, &mut report).await?;
    }
    legacy.close().await.ok();
    if !dry_run && report.count(Outcome::Imported) > 0 {
        // Accounts exist now: no later signup may become admin by being first.
        accounts::close_first_admin_claim(db).await?;
    }
    Ok(report)
}

async fn read_batch(legacy: &DatabaseConnection, after: i32) -> anyhow::Result<Vec<LegacyRow>> {
    let statement = Statement::from_sql_and_values(
        legacy.get_database_backend(),
        "SELECT id, first_name, last_name, username, email, mobile, password, \
         security_question, security_answer, otp FROM users WHERE id > ? ORDER BY id LIMIT ?",
        [after.into(), BATCH.into()],
    );
    LegacyRow::find_by_statement(statement)
        .all(legacy)
        .await
        .context("could not read the legacy users table")
}

async fn import_batch(
    db: &DatabaseConnection,
    passwords: &Passwords,
    rows: Vec<LegacyRow>,
    taken: &mut Taken,
    report: &mut Report,
) -> anyhow::Result<()> {
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let imported: HashSet<i32> = LegacyImports::find()
        .select_only()
        .column(legacy_import::Column::LegacyId)
        .filter(legacy_import::Column::LegacyId.is_in(ids))
        .into_tuple::<i32>()
        .all(db)
        .await?
        .into_iter()
        .collect();

    let mut candidates = Vec::new();
    for row in &rows {
        let username = row.username.clone().unwrap_or_default();
        let line = |outcome, notes| Line {
            legacy_id: row.id,
            username: username.clone(),
            outcome,
            notes,
        };
        if imported.contains(&row.id) {
            report
                .lines
                .push(line(Outcome::AlreadyImported, Vec::new()));
            continue;
        }
        match check(row) {
            Ok(candidate) => candidates.push(candidate),
            Err(reason) => report.lines.push(line(Outcome::Skipped, vec![reason])),
        }
    }
    record_existing(db, &candidates, taken).await?;

    let mut accepted = Vec::new();
    for candidate in candidates {
        match taken.conflict(&candidate) {
            Some(reason) => report.lines.push(Line {
                legacy_id: candidate.legacy_id,
                username: candidate.original_username,
                outcome: Outcome::Skipped,
                notes: vec![reason],
            }),
            None => {
                taken.claim(&candidate);
                accepted.push(candidate);
            }
        }
    }
    if !report.dry_run && !accepted.is_empty() {
        insert(db, passwords, &accepted).await?;
    }
    report.lines.extend(accepted.into_iter().map(|c| Line {
        legacy_id: c.legacy_id,
        username: c.original_username,
        outcome: Outcome::Imported,
        notes: c.notes,
    }));
    report.lines.sort_by_key(|l| l.legacy_id);
    Ok(())
}

/// Marks the values of existing accounts (not imported by this run) as taken.
async fn record_existing(
    db: &DatabaseConnection,
    candidates: &[Candidate],
    taken: &mut Taken,
) -> anyhow::Result<()> {
    if candidates.is_empty() {
        return Ok(());
    }
    let values = |f: fn(&Candidate) -> &String| -> Vec<String> {
        candidates.iter().map(|c| f(c).clone()).collect()
    };
    let existing: Vec<(String, String, String)> = Users::find()
        .select_only()
        .columns([Column::Username, Column::Email, Column::Mobile])
        .filter(
            Condition::any()
                .add(Column::Username.is_in(values(|c| &c.username)))
                .add(Column::Email.is_in(values(|c| &c.email)))
                .add(Column::Mobile.is_in(values(|c| &c.mobile))),
        )
        .into_tuple()
        .all(db)
        .await?;
    for (username, email, mobile) in existing {
        for (field, value) in [("username", username), ("email", email), ("mobile", mobile)] {
            taken
                .owners
                .entry((field, value))
                .or_insert_with(|| "an existing account".to_owned());
        }
    }
    Ok(())
}

/// Hashes what needs hashing (on the bounded pool, all cores busy) and inserts the
/// batch in one transaction.
async fn insert(
    db: &DatabaseConnection,
    passwords: &Passwords,
    accepted: &[Candidate],
) -> anyhow::Result<()> {
    let hash = |secret: Option<&str>| {
        let secret = secret.map(|s| SecretString::from(s.to_owned()));
        async move {
            match secret {
                Some(secret) => passwords.hash(secret).await.map(Some),
                None => Ok(None),
            }
        }
    };
    let hashed = futures::future::try_join_all(accepted.iter().map(|c| async {
        let password = match &c.password {
            Password::Bcrypt(hash) => hash.clone(),
            Password::Plain(plain) => hash(Some(plain)).await?.unwrap_or_default(),
        };
        let answer = hash(c.security_answer.as_deref()).await?;
        Ok::<_, crate::error::ApiError>((password, answer))
    }))
    .await
    .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;

    let now = now();
    let models = accepted
        .iter()
        .zip(hashed)
        .map(|(c, (password_hash, answer_hash))| user::ActiveModel {
            first_name: Set(c.first_name.clone()),
            last_name: Set(c.last_name.clone()),
            username: Set(c.username.clone()),
            email: Set(c.email.clone()),
            mobile: Set(c.mobile.clone()),
            password_hash: Set(password_hash),
            security_question: Set(c.security_question.clone()),
            security_answer_hash: Set(answer_hash),
            role: Set(Role::User.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
    let records = accepted.iter().map(|c| legacy_import::ActiveModel {
        legacy_id: Set(c.legacy_id),
        username: Set(c.username.clone()),
        imported_at: Set(now),
    });
    let txn = database::begin_write(db).await?;
    Users::insert_many(models)
        .exec_without_returning(&txn)
        .await
        .context(
            "could not insert the imported accounts (did someone sign up meanwhile? run again)",
        )?;
    LegacyImports::insert_many(records)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i32) -> LegacyRow {
        LegacyRow {
            id,
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            username: Some(format!("User{id}")),
            email: Some(format!("User{id}@Example.com")),
            mobile: Some(format!("+1 555 010 {id:04}")),
            password: Some(bcrypt::hash("old secret", 4).unwrap()),
            security_question: Some("Pet?".into()),
            security_answer: Some(" Rex ".into()),
            otp: None,
        }
    }

    #[test]
    fn clean_rows_pass_unchanged_but_normalised() {
        let c = check(&row(7)).unwrap();
        assert_eq!(c.username, "user7");
        assert_eq!(c.email, "user7@example.com");
        assert_eq!(c.mobile, "+15550100007");
        assert_eq!(c.security_answer.as_deref(), Some("rex"));
        assert!(matches!(c.password, Password::Bcrypt(_)));
        assert!(c.notes.is_empty(), "{:?}", c.notes);
    }

    #[test]
    fn rule_breakers_are_kept_with_notes_or_skipped_with_reasons() {
        let mut plain = row(1);
        plain.password = Some("hunter2".into());
        plain.email = Some("bob@localhost".into());
        plain.otp = Some("123456".into());
        let c = check(&plain).unwrap();
        assert!(matches!(c.password, Password::Plain(ref p) if p == "hunter2"));
        assert_eq!(c.notes.len(), 3, "{:?}", c.notes);

        let mut broken_hash = row(2);
        broken_hash.password = Some("$2b$04$tooshort".into());
        assert!(matches!(
            check(&broken_hash).unwrap().password,
            Password::Plain(_)
        ));

        for (field, reason) in [
            ("username", "no username"),
            ("email", "no email"),
            ("password", "no password"),
        ] {
            let mut r = row(3);
            match field {
                "username" => r.username = Some("  ".into()),
                "email" => r.email = None,
                _ => r.password = None,
            }
            assert_eq!(check(&r).err().as_deref(), Some(reason));
        }
    }

    #[test]
    fn duplicates_across_case_are_caught() {
        let mut taken = Taken::default();
        let first = check(&row(1)).unwrap();
        taken.claim(&first);
        let mut twin = row(2);
        twin.email = Some("USER1@example.COM".into());
        let reason = taken.conflict(&check(&twin).unwrap()).unwrap();
        assert_eq!(
            reason,
            "email 'user1@example.com' is already used by legacy row 1"
        );
    }
}
