//! CSV import by admins (`POST /users/import`): accounts upserted by username, a
//! report line per row, one transaction per chunk of rows.
//!
//! A row is created or updated only if all of it is valid and its email and mobile
//! are not another account's (or another row's); else it is skipped with the reason
//! and nothing else changes for it. Given `password_hash` (bcrypt or an argon2 PHC
//! string) is kept and verified at login, where it is upgraded like any legacy hash.
//! New accounts without one get an unusable password (the hash of a random secret
//! nobody keeps) and the address-verification mail; they set a password with
//! "forgot password". An import never demotes an admin (that is done one account at
//! a time, under the last-admin rule). A changed role or hash ends the account's
//! sessions; a changed email is unverified until proved.

use std::collections::{HashMap, HashSet};

use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use secrecy::SecretString;
use shared::validate::{Email, Mobile, PersonName, Username};
use shared::{IMPORT_COLUMNS, IMPORT_MAX_ROWS, ImportOutcome, ImportRow, Role, WebhookEventType};

use super::{AccountError, search, to_api};
use crate::auth::formats::{self, Format};
use crate::auth::password::Passwords;
use crate::auth::session;
use crate::clock::now;
use crate::db;
use crate::db::entity::user::{self, Column, Entity as Users};
use crate::integrations::webhooks::{self, Subscribers};

/// Rows per transaction.
const CHUNK: usize = 500;

/// A file that cannot be read as an import at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// What the import did (or, in a dry run, would do), and the accounts it created
/// without a password (to send the verification mail to).
pub struct Imported {
    pub rows: Vec<ImportRow>,
    pub without_password: Vec<user::Model>,
}

/// A valid row.
#[derive(Debug, Clone)]
struct Candidate {
    line: u64,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    mobile: String,
    role: Role,
    password_hash: Option<String>,
}

fn skipped(line: u64, username: &str, reason: impl Into<String>) -> ImportRow {
    ImportRow {
        line,
        username: username.to_owned(),
        outcome: ImportOutcome::Skipped,
        reason: Some(reason.into()),
    }
}

/// A value as exported: a leading `'` guarding a formula start is dropped.
fn cell(raw: &str) -> &str {
    let raw = raw.trim();
    match raw.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => raw,
    }
}

/// The header's column positions; unknown or missing columns refuse the file.
fn columns(header: &csv::StringRecord) -> Result<HashMap<&'static str, usize>, ImportError> {
    let mut found = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase();
        let Some(known) = IMPORT_COLUMNS.iter().find(|c| **c == name) else {
            return Err(ImportError::File(format!(
                "Unknown column \"{name}\": the columns are {}.",
                IMPORT_COLUMNS.join(", ")
            )));
        };
        if found.insert(*known, i).is_some() {
            return Err(ImportError::File(format!(
                "The column {name} appears twice."
            )));
        }
    }
    let missing: Vec<&str> = IMPORT_COLUMNS
        .iter()
        .filter(|c| **c != "password_hash" && !found.contains_key(*c))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::File(format!(
            "The header lacks {}: the first line must name the columns.",
            missing.join(", ")
        )));
    }
    Ok(found)
}

/// Checks one record; the reason it is skipped otherwise.
fn check(
    line: u64,
    record: &csv::StringRecord,
    at: &HashMap<&'static str, usize>,
) -> Result<Candidate, ImportRow> {
    let get = |name: &str| {
        at.get(name)
            .and_then(|i| record.get(*i))
            .map(cell)
            .unwrap_or("")
    };
    let name = get("username");
    let fail = |field: &str, why: String| skipped(line, name, format!("{field} {why}"));
    let username = Username::parse(name).map_err(|e| fail("username", e))?;
    let email = Email::parse(get("email")).map_err(|e| fail("email", e))?;
    let first_name = PersonName::parse(get("first_name")).map_err(|e| fail("first_name", e))?;
    let last_name = PersonName::parse(get("last_name")).map_err(|e| fail("last_name", e))?;
    let mobile = Mobile::parse(get("mobile")).map_err(|e| fail("mobile", e))?;
    let role = match get("role") {
        "" => Role::User,
        raw => Role::parse(raw).map_err(|e| fail("role", e))?,
    };
    let password_hash = match get("password_hash") {
        "" => None,
        hash => match formats::recognize(hash) {
            Some(Format::Bcrypt | Format::Argon2) => Some(hash.to_owned()),
            _ => {
                return Err(fail(
                    "password_hash",
                    "must be a bcrypt ($2b$...) or argon2 PHC ($argon2id$...) hash".to_owned(),
                ));
            }
        },
    };
    Ok(Candidate {
        line,
        username: username.into_inner(),
        email: email.into_inner(),
        first_name: first_name.into_inner(),
        last_name: last_name.into_inner(),
        mobile: mobile.into_inner(),
        role,
        password_hash,
    })
}

/// Reads the file: valid rows, and report lines for the rest. A row repeating an
/// earlier row's username, email or mobile is skipped.
fn read(csv_text: &[u8]) -> Result<(Vec<Candidate>, Vec<ImportRow>), ImportError> {
    let text = std::str::from_utf8(csv_text)
        .map_err(|_| ImportError::File("The file is not UTF-8 text.".to_owned()))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|_| ImportError::File("The file is not CSV.".to_owned()))?
        .clone();
    let at = columns(&header)?;
    let (mut valid, mut refused) = (Vec::new(), Vec::new());
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (n, record) in reader.records().enumerate() {
        if n >= IMPORT_MAX_ROWS {
            return Err(ImportError::File(format!(
                "The file has more than {IMPORT_MAX_ROWS} rows: import it in parts."
            )));
        }
        let line = n as u64 + 2;
        let record = match record {
            Ok(record) if record.len() == header.len() => record,
            Ok(record) => {
                let reason = format!(
                    "has {} fields; the header has {}",
                    record.len(),
                    header.len()
                );
                refused.push(skipped(line, "", reason));
                continue;
            }
            Err(_) => {
                refused.push(skipped(line, "", "is not valid CSV"));
                continue;
            }
        };
        let candidate = match check(line, &record, &at) {
            Ok(candidate) => candidate,
            Err(row) => {
                refused.push(row);
                continue;
            }
        };
        let keys = [
            ("username", candidate.username.clone()),
            ("email", candidate.email.clone()),
            ("mobile", candidate.mobile.clone()),
        ];
        if let Some((field, first)) = keys
            .iter()
            .find_map(|(field, value)| seen.get(&format!("{field}:{value}")).map(|l| (field, l)))
        {
            let reason = format!("{field} repeats line {first}");
            refused.push(skipped(line, &candidate.username, reason));
            continue;
        }
        for (field, value) in keys {
            seen.insert(format!("{field}:{value}"), line);
        }
        valid.push(candidate);
    }
    Ok((valid, refused))
}

/// Imports `csv_text`; with `dry_run`, only reports.
pub async fn import(
    db: &DatabaseConnection,
    passwords: &Passwords,
    csv_text: &[u8],
    dry_run: bool,
) -> Result<Imported, ImportError> {
    let (valid, mut rows) = read(csv_text)?;
    let unusable = match dry_run || valid.iter().all(|c| c.password_hash.is_some()) {
        true => String::new(),
        false => {
            let mut secret = [0u8; 32];
            rand::rng().fill_bytes(&mut secret);
            passwords
                .hash(SecretString::from(hex::encode(secret)))
                .await
                .map_err(AccountError::from)?
        }
    };
    let mut without_password = Vec::new();
    for chunk in valid.chunks(CHUNK) {
        let (reported, created) = import_chunk(db, chunk, dry_run, &unusable).await?;
        rows.extend(reported);
        without_password.extend(created);
    }
    rows.sort_by_key(|r| r.line);
    Ok(Imported {
        rows,
        without_password,
    })
}

/// What happens to each row of `chunk`, and (unless `dry_run`) doing it in one
/// transaction.
async fn import_chunk(
    db: &DatabaseConnection,
    chunk: &[Candidate],
    dry_run: bool,
    unusable: &str,
) -> Result<(Vec<ImportRow>, Vec<user::Model>), ImportError> {
    let txn = db::begin_write(db).await?;
    let subscribers = Subscribers::load(&txn).await?;
    let usernames: Vec<&str> = chunk.iter().map(|c| c.username.as_str()).collect();
    let emails: Vec<&str> = chunk.iter().map(|c| c.email.as_str()).collect();
    let mobiles: Vec<&str> = chunk.iter().map(|c| c.mobile.as_str()).collect();
    let holders = Users::find()
        .filter(
            Condition::any()
                .add(Column::Username.is_in(usernames))
                .add(Column::Email.is_in(emails))
                .add(Column::Mobile.is_in(mobiles)),
        )
        .all(&txn)
        .await?;
    let (mut rows, mut changed, mut created_bare) = (Vec::new(), Vec::new(), Vec::new());
    let mut ends_sessions = HashSet::new();
    for c in chunk {
        let existing = holders.iter().find(|u| u.username == c.username);
        let outcome = match decide(c, existing, &holders) {
            Ok(outcome) => outcome,
            Err(row) => {
                rows.push(row);
                continue;
            }
        };
        rows.push(ImportRow {
            line: c.line,
            username: c.username.clone(),
            outcome,
            reason: None,
        });
        if dry_run {
            continue;
        }
        let (saved, event) = match existing {
            None => {
                let created = create(&txn, c, unusable).await?;
                if c.password_hash.is_none() {
                    created_bare.push(created.clone());
                }
                (created, WebhookEventType::UserCreated)
            }
            Some(user) => {
                if user.role != c.role || c.password_hash.is_some() {
                    ends_sessions.insert(user.id);
                }
                let event = match user.role != c.role {
                    true => WebhookEventType::UserRoleChanged,
                    false => WebhookEventType::UserUpdated,
                };
                (update(&txn, c, user).await?, event)
            }
        };
        webhooks::enqueue_to(&txn, &subscribers, event, &to_api(saved.clone())).await?;
        changed.push(saved);
    }
    if dry_run {
        txn.rollback().await?;
        return Ok((rows, Vec::new()));
    }
    search::reindex(&txn, &changed).await?;
    for id in ends_sessions {
        session::revoke_all(&txn, id).await?;
    }
    txn.commit().await?;
    Ok((rows, created_bare))
}

/// Whether row `c` creates or updates (`existing`), or why it is skipped.
fn decide(
    c: &Candidate,
    existing: Option<&user::Model>,
    holders: &[user::Model],
) -> Result<ImportOutcome, ImportRow> {
    let own = existing.map(|u| u.id);
    let taken = |field: &str| {
        holders.iter().any(|u| {
            let value = if field == "email" {
                &u.email
            } else {
                &u.mobile
            };
            let wanted = if field == "email" {
                &c.email
            } else {
                &c.mobile
            };
            value == wanted && Some(u.id) != own
        })
    };
    if let Some(field) = ["email", "mobile"].into_iter().find(|f| taken(f)) {
        return Err(skipped(
            c.line,
            &c.username,
            format!("{field} is another account's"),
        ));
    }
    match existing {
        None => Ok(ImportOutcome::Created),
        Some(user) if user.role == Role::Admin && c.role != Role::Admin => Err(skipped(
            c.line,
            &c.username,
            "would demote an admin: change admins' roles one at a time",
        )),
        Some(user) if unchanged(user, c) => Err(skipped(c.line, &c.username, "unchanged")),
        Some(_) => Ok(ImportOutcome::Updated),
    }
}

async fn create(
    txn: &DatabaseTransaction,
    c: &Candidate,
    unusable: &str,
) -> Result<user::Model, DbErr> {
    let now = now();
    user::ActiveModel {
        first_name: Set(c.first_name.clone()),
        last_name: Set(c.last_name.clone()),
        username: Set(c.username.clone()),
        email: Set(c.email.clone()),
        mobile: Set(c.mobile.clone()),
        password_hash: Set(c
            .password_hash
            .clone()
            .unwrap_or_else(|| unusable.to_owned())),
        role: Set(c.role),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
}

async fn update(
    txn: &DatabaseTransaction,
    c: &Candidate,
    user: &user::Model,
) -> Result<user::Model, DbErr> {
    let mut model = user.clone().into_active_model();
    model.first_name = Set(c.first_name.clone());
    model.last_name = Set(c.last_name.clone());
    model.mobile = Set(c.mobile.clone());
    model.role = Set(c.role);
    if user.email != c.email {
        model.email = Set(c.email.clone());
        model.email_verified_at = Set(None);
        model.pending_email = Set(None);
    }
    if let Some(hash) = &c.password_hash {
        model.password_hash = Set(hash.clone());
    }
    model.updated_at = Set(now());
    model.update(txn).await
}

/// Whether importing `c` over `user` would change nothing.
fn unchanged(user: &user::Model, c: &Candidate) -> bool {
    user.email == c.email
        && user.first_name == c.first_name
        && user.last_name == c.last_name
        && user.mobile == c.mobile
        && user.role == c.role
        && c.password_hash
            .as_ref()
            .is_none_or(|h| *h == user.password_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked_and_repeats_skipped() {
        let file = "username,email,first_name,last_name,mobile,role\n\
            ada,ada@example.com,Ada,Lovelace,+15550100001,admin\n\
            bob,not-an-email,Bob,B,+15550100002,user\n\
            ada,other@example.com,Ada,Again,+15550100003,user\n\
            cyd,cy@example.com,Cy,'=SUM(A1),+15550100004,\n\
            short,row\n";
        let (valid, refused) = read(file.as_bytes()).unwrap();
        let names: Vec<&str> = valid.iter().map(|c| c.username.as_str()).collect();
        assert_eq!(names, ["ada", "cyd"]);
        assert_eq!(valid[1].last_name, "=SUM(A1)");
        assert_eq!(valid[1].role, Role::User);
        let reasons: Vec<(u64, String)> = refused
            .into_iter()
            .map(|r| (r.line, r.reason.unwrap()))
            .collect();
        assert!(
            reasons[0].0 == 3 && reasons[0].1.starts_with("email"),
            "{reasons:?}"
        );
        assert_eq!(reasons[1], (4, "username repeats line 2".to_owned()));
        assert_eq!(reasons[2].0, 6);
    }

    #[test]
    fn a_header_must_name_the_known_columns() {
        for file in [
            "user,email\n",
            "username,email,first_name,last_name,mobile\n",
        ] {
            assert!(
                matches!(read(file.as_bytes()), Err(ImportError::File(_))),
                "{file}"
            );
        }
        let bad_hash = "username,email,first_name,last_name,mobile,role,password_hash\n\
            ada,ada@example.com,Ada,L,+15550100001,user,plaintext\n";
        let (valid, refused) = read(bad_hash.as_bytes()).unwrap();
        assert!(
            valid.is_empty()
                && refused[0]
                    .reason
                    .as_ref()
                    .unwrap()
                    .starts_with("password_hash")
        );
    }
}
