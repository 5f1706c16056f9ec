//! The rules for one legacy row: what is kept, what is noted, what is skipped.

use std::collections::HashMap;

use sea_orm::FromQueryResult;
use shared::validate::{Email, Mobile, PersonName, SecurityAnswer, Username};

use crate::auth::formats;

/// One row of the old app's `users` table.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct LegacyRow {
    pub id: i32,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub password: Option<String>,
    pub security_question: Option<String>,
    pub security_answer: Option<String>,
    pub otp: Option<String>,
}

/// A row that passed the checks, ready to hash and insert.
pub(super) struct Candidate {
    pub legacy_id: i32,
    /// As the old table had it, for the report.
    pub original_username: String,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub email: String,
    pub mobile: String,
    pub password: Password,
    pub security_question: Option<String>,
    pub security_answer: Option<String>,
    pub notes: Vec<String>,
}

pub(super) enum Password {
    /// A hash passlib made (any of its default schemes): stored as it is, verified at
    /// login and replaced by argon2id then.
    Legacy(String),
    /// Plain text: hashed to argon2id before it is stored.
    Plain(String),
}

/// Today's column sizes: a longer value cannot be stored whole, so its row is skipped
/// (an insert would fail, and take the whole batch with it).
mod limit {
    pub const USERNAME: usize = 50;
    pub const EMAIL: usize = 254;
    pub const MOBILE: usize = 16;
    pub const QUESTION: usize = 200;
    pub const HASH: usize = 255;
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `Err` when `value` is longer than its column.
fn fits(label: &str, value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!("the {label} is longer than {max} characters"));
    }
    Ok(())
}

/// Checks one row on its own; `Err` holds the reason it must be skipped.
pub(super) fn check(row: &LegacyRow) -> Result<Candidate, String> {
    let mut notes = Vec::new();
    let username = present(&row.username).ok_or("no username")?.to_lowercase();
    fits("username", &username, limit::USERNAME)?;
    if Username::parse(&username).is_err() {
        notes.push(format!(
            "username '{username}' breaks today's rules (kept; they apply when it changes)"
        ));
    }
    let email = present(&row.email).ok_or("no email")?.to_lowercase();
    fits("email", &email, limit::EMAIL)?;
    if Email::parse(&email).is_err() {
        notes.push(format!(
            "email '{email}' breaks today's rules (kept; the user should correct it)"
        ));
    }
    let mobile = check_mobile(row, &mut notes)?;
    let password = check_password(row, &mut notes)?;
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
    if let Some(question) = &security_question {
        fits("security question", question, limit::QUESTION)?;
    }
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

fn check_mobile(row: &LegacyRow, notes: &mut Vec<String>) -> Result<String, String> {
    let raw = present(&row.mobile).ok_or("no mobile number")?;
    match Mobile::parse(raw) {
        Ok(mobile) => Ok(mobile.into_inner()),
        Err(_) => {
            fits("mobile number", raw, limit::MOBILE)?;
            notes.push(format!(
                "mobile '{raw}' breaks today's rules (kept as it was)"
            ));
            Ok(raw.to_owned())
        }
    }
}

/// A hash of a format we verify is kept; anything else shaped like a hash is skipped
/// (it is not the password, and taking it for one would lock the user out); the rest
/// is a plain-text password.
fn check_password(row: &LegacyRow, notes: &mut Vec<String>) -> Result<Password, String> {
    let value = present(&row.password).ok_or("no password")?;
    if formats::recognize(value).is_some() {
        fits("password hash", value, limit::HASH)?;
        return Ok(Password::Legacy(value.to_owned()));
    }
    if formats::looks_like_a_hash(value) {
        return Err("the password is a hash of a format that cannot be verified".to_owned());
    }
    notes.push("plain-text password hashed".to_owned());
    // Not trimmed: spaces may be part of a plain-text password.
    Ok(Password::Plain(row.password.clone().unwrap_or_default()))
}

/// Values already taken, by the field they belong to.
#[derive(Default)]
pub(super) struct Taken {
    /// (field, value) -> who has it: "row 7" or "an existing account".
    pub owners: HashMap<(&'static str, String), String>,
}

impl Taken {
    pub fn conflict(&self, candidate: &Candidate) -> Option<String> {
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

    pub fn claim(&mut self, candidate: &Candidate) {
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
        assert!(matches!(c.password, Password::Legacy(_)));
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
        assert_eq!(
            check(&broken_hash).err().as_deref(),
            Some("the password is a hash of a format that cannot be verified"),
            "a truncated hash is not a password"
        );
        let mut long_mobile = row(4);
        long_mobile.mobile = Some("+44 (0) 7700 900 123 ext 9".into());
        assert_eq!(
            check(&long_mobile).err().as_deref(),
            Some("the mobile number is longer than 16 characters")
        );

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
