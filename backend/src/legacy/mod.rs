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

mod check;
mod report;

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Context;
use sea_orm::{
    ColumnTrait, Condition, ConnectOptions, Database, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, Set, Statement,
};
use secrecy::SecretString;
use shared::Role;

use self::check::{Candidate, LegacyRow, Password, Taken, check};
pub use self::report::{Line, Outcome, Report, default_report_path};
use crate::accounts;
use crate::auth::password::Passwords;
use crate::clock::now;
use crate::db;
use crate::db::entity::legacy_import::{self, Entity as LegacyImports};
use crate::db::entity::user::{self, Column, Entity as Users};

/// Rows read and written per round trip.
const BATCH: u64 = 500;

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
            Password::Legacy(hash) => hash.clone(),
            Password::Plain(plain) => hash(Some(plain)).await?.unwrap_or_default(),
        };
        let answer = hash(c.security_answer.as_deref()).await?;
        Ok::<_, crate::auth::password::HashError>((password, answer))
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
            role: Set(Role::User),
            // The old app's users have used these addresses for years.
            email_verified_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
    let records = accepted.iter().map(|c| legacy_import::ActiveModel {
        legacy_id: Set(c.legacy_id),
        username: Set(c.username.clone()),
        imported_at: Set(now),
    });
    let txn = db::begin_write(db).await?;
    Users::insert_many(models)
        .exec_without_returning(&txn)
        .await
        .context(
            "could not insert the imported accounts (did someone sign up meanwhile? run again)",
        )?;
    LegacyImports::insert_many(records)
        .exec_without_returning(&txn)
        .await?;
    let imported = Users::find()
        .filter(Column::Username.is_in(accepted.iter().map(|c| c.username.clone())))
        .all(&txn)
        .await?;
    accounts::search::reindex(&txn, &imported).await?;
    txn.commit().await?;
    Ok(())
}
