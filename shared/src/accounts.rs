//! Accounts: what a user is (`User`, `Role`), how one is created and changed, and how
//! the list of them is queried (`GET /users`).
//!
//! Request bodies use `#[serde(default)]` so a missing field reaches validation and
//! comes back as a field error ("is required") instead of an opaque parse failure.
//! Unknown fields are ignored, which is what makes mass assignment impossible: a
//! request type that has no `role` cannot change a role.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::common::{paging, string_enum};
use crate::cursor::Cursor;
use crate::mfa::MfaSummary;
use crate::validate::{
    Email, FieldErrors, Mobile, Password, PersonName, SecurityAnswer, SecurityQuestion, Username,
    Validator,
};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

string_enum!(
    /// What an account may do. Admins: everything. Users: read users, edit themselves.
    Role {
        Admin => "admin",
        User => "user",
    }
);

/// An account as every API response shows it. Never carries the password hash, the
/// security answer or anything about one-time codes. Admins and the account itself
/// see every field; other users see what the directory setting allows, the rest is
/// left out (`email`, `mobile`, the email state) or null (`last_login_at` and the
/// account state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: i32,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the owner proved they read `email` (a code mailed to it came back).
    /// Until then no mail but the verification code goes there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// A new address waiting for its code; it replaces `email` once verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Set while an admin has disabled the account: it cannot log in.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Set while too many failed logins lock the account; an admin can unlock it.
    pub locked_until: Option<DateTime<Utc>>,
    /// The account's picture (256 px; add `&size=64` for the small one), or null
    /// without one. The URL changes with the picture, so it may be cached for good.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "/api/v1/users/42/avatar?v=3f2a9c0d1e7b6a54")
    )]
    pub avatar_url: Option<String>,
    /// The account's second factors (its owner and admins see them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaSummary>,
}

/// The account fields every new account needs, as sent by the client.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct SignupRequest {
    #[cfg_attr(feature = "openapi", schema(example = "Ada"))]
    pub first_name: String,
    #[cfg_attr(feature = "openapi", schema(example = "Lovelace"))]
    pub last_name: String,
    #[cfg_attr(feature = "openapi", schema(example = "ada"))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(example = "ada@example.com"))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(example = "+447700900123"))]
    pub mobile: String,
    #[cfg_attr(feature = "openapi", schema(example = "analytical engine 1843", format = Password))]
    pub password: String,
    #[cfg_attr(feature = "openapi", schema(example = "Name of my first pet?"))]
    pub security_question: String,
    #[cfg_attr(feature = "openapi", schema(example = "babbage", format = Password))]
    pub security_answer: String,
    /// The code from the invitation mail, when sign-up is by invitation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub invitation_code: Option<String>,
    /// The one-time setup token printed at start-up, for the first account of an
    /// instance reachable from the network (it becomes the admin).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub setup_token: Option<String>,
}

impl fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignupRequest")
            .field("username", &self.username)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A new account that passed every rule.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub username: Username,
    pub email: Email,
    pub mobile: Mobile,
    pub password: Password,
    pub security_question: SecurityQuestion,
    pub security_answer: SecurityAnswer,
}

impl SignupRequest {
    pub fn validate(&self) -> Result<NewAccount, FieldErrors> {
        let mut v = Validator::new();
        let first_name = v.check("first_name", PersonName::parse(&self.first_name));
        let last_name = v.check("last_name", PersonName::parse(&self.last_name));
        let username = v.check("username", Username::parse(&self.username));
        let email = v.check("email", Email::parse(&self.email));
        let mobile = v.check("mobile", Mobile::parse(&self.mobile));
        let password = v.check(
            "password",
            Password::parse(
                &self.password,
                &[
                    &self.username,
                    &self.email,
                    &self.first_name,
                    &self.last_name,
                ],
            ),
        );
        let security_question = v.check(
            "security_question",
            SecurityQuestion::parse(&self.security_question),
        );
        let security_answer = v.check(
            "security_answer",
            SecurityAnswer::parse(&self.security_answer),
        );
        if let Some(answer) = &security_answer
            && answer.as_str() == SecurityAnswer::normalize(&self.password)
        {
            v.fail("security_answer", "must not be the same as the password");
        }
        v.finish(|| NewAccount {
            first_name: first_name.unwrap(),
            last_name: last_name.unwrap(),
            username: username.unwrap(),
            email: email.unwrap(),
            mobile: mobile.unwrap(),
            password: password.unwrap(),
            security_question: security_question.unwrap(),
            security_answer: security_answer.unwrap(),
        })
    }
}

/// `POST /users` (admin): a new account with an optional role (default `user`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct CreateUserRequest {
    #[serde(flatten)]
    pub account: SignupRequest,
    pub role: Option<Role>,
}

/// `PUT /auth/me`: change any of your own details; absent fields stay as they are.
/// A new security question needs its answer too.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct UpdateProfileRequest {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    /// A new address is held as `pending_email` until its code is verified; sending
    /// the current address again withdraws a pending change.
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub security_question: Option<String>,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub security_answer: Option<String>,
    /// Your password: needed in the same request to change your own username,
    /// email, mobile, security question or answer (or, as an admin, your own
    /// password through `PUT /users/{id}`).
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub current_password: Option<String>,
}

impl fmt::Debug for UpdateProfileRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateProfileRequest")
            .field("username", &self.username)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// Validated profile changes; `None` leaves a column untouched.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub username: Option<Username>,
    pub email: Option<Email>,
    pub mobile: Option<Mobile>,
    pub security_question: Option<SecurityQuestion>,
    pub security_answer: Option<SecurityAnswer>,
}

impl UpdateProfileRequest {
    fn check(&self, v: &mut Validator) -> ProfileChanges {
        if self.security_question.is_some() && self.security_answer.is_none() {
            v.fail(
                "security_answer",
                "is required when the security question changes",
            );
        }
        ProfileChanges {
            first_name: v.check_opt("first_name", self.first_name.as_deref(), PersonName::parse),
            last_name: v.check_opt("last_name", self.last_name.as_deref(), PersonName::parse),
            username: v.check_opt("username", self.username.as_deref(), Username::parse),
            email: v.check_opt("email", self.email.as_deref(), Email::parse),
            mobile: v.check_opt("mobile", self.mobile.as_deref(), Mobile::parse),
            security_question: v.check_opt(
                "security_question",
                self.security_question.as_deref(),
                SecurityQuestion::parse,
            ),
            security_answer: v.check_opt(
                "security_answer",
                self.security_answer.as_deref(),
                SecurityAnswer::parse,
            ),
        }
    }

    pub fn validate(&self) -> Result<ProfileChanges, FieldErrors> {
        let mut v = Validator::new();
        let changes = self.check(&mut v);
        v.finish(|| changes)
    }
}

/// `PUT /users/{id}`: profile fields, plus `role` and a new `password` (admins only).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct UpdateUserRequest {
    #[serde(flatten)]
    pub profile: UpdateProfileRequest,
    pub role: Option<Role>,
    /// Admins only: set a new password; ends every session of that user.
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: Option<String>,
}

impl fmt::Debug for UpdateUserRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateUserRequest")
            .field("profile", &self.profile)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Validated [`UpdateUserRequest`].
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub profile: ProfileChanges,
    pub role: Option<Role>,
    pub password: Option<Password>,
}

impl UpdateUserRequest {
    /// `current` is the stored account, whose names and addresses count as known
    /// words for the strength check of a new password.
    pub fn validate(&self, current: &User) -> Result<UserChanges, FieldErrors> {
        let mut v = Validator::new();
        let profile = self.profile.check(&mut v);
        let p = &self.profile;
        let inputs = [
            p.username.as_deref().unwrap_or(&current.username),
            p.email
                .as_deref()
                .unwrap_or(current.email.as_deref().unwrap_or_default()),
            p.first_name.as_deref().unwrap_or(&current.first_name),
            p.last_name.as_deref().unwrap_or(&current.last_name),
        ];
        let password = v.check_opt("password", self.password.as_deref(), |raw| {
            Password::parse(raw, &inputs)
        });
        v.finish(|| UserChanges {
            profile,
            role: self.role,
            password,
        })
    }
}

string_enum!(
    /// What users who are not admins see of other accounts (`DIRECTORY_VISIBILITY`).
    #[derive(Default)]
    DirectoryVisibility {
        /// Only their own account.
        None => "none",
        /// Id, username, first and last name, role and dates: no contact data.
        #[default]
        Names => "names",
        /// Every field an admin sees, but the account state.
        Full => "full",
    }
);

string_enum!(
    /// Columns the user list can be sorted by.
    #[derive(Default)]
    SortKey {
        Username => "username",
        Email => "email",
        #[default]
        CreatedAt => "created_at",
        LastLoginAt => "last_login_at",
    }
);

/// A sort column and direction, written `column` (ascending) or `-column`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    pub const RULE: &'static str =
        "must be one of username, email, created_at, last_login_at, optionally prefixed with -";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        SortKey::parse(name)
            .map(|key| Sort { key, descending })
            .map_err(|_| Self::RULE.to_owned())
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.descending {
            f.write_str("-")?;
        }
        f.write_str(self.key.as_str())
    }
}

/// Query string of `GET /users`. Everything is optional; raw strings so that a bad
/// value gets a field message rather than a generic query error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(default)]
pub struct ListUsersQuery {
    /// 1-based page number (default 1).
    #[cfg_attr(feature = "openapi", param(value_type = Option<u64>, minimum = 1, example = 1))]
    pub page: Option<String>,
    /// Page size, 1-100 (default 20).
    #[cfg_attr(feature = "openapi", param(value_type = Option<u64>, minimum = 1, maximum = 100, example = 20))]
    pub per_page: Option<String>,
    /// Words to find: an account matches when each word starts a word of its username,
    /// email, first name, last name or mobile (`lovelace`, `example.org`, `hopper123`,
    /// `+4477`), case-insensitively.
    pub q: Option<String>,
    /// `username`, `email`, `created_at` (default) or `last_login_at`; prefix `-` for descending.
    #[cfg_attr(feature = "openapi", param(example = "-created_at"))]
    pub sort: Option<String>,
    /// Only accounts with this role.
    #[cfg_attr(feature = "openapi", param(value_type = Option<Role>))]
    pub role: Option<String>,
    /// A `next` or `prev` cursor from an earlier page of the same sort: the page after
    /// (or before) it, read from the index however deep. Takes the place of `page`.
    pub cursor: Option<String>,
}

/// Query string of `GET /users/export.csv`: the list's search, filter and sort, with
/// no paging (every matching account is exported).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(default)]
pub struct ExportUsersQuery {
    /// Words to find, as for the list.
    pub q: Option<String>,
    /// As for the list: `username`, `email`, `created_at` (default) or
    /// `last_login_at`; prefix `-` for descending.
    #[cfg_attr(feature = "openapi", param(example = "username"))]
    pub sort: Option<String>,
    /// Only accounts with this role.
    #[cfg_attr(feature = "openapi", param(value_type = Option<Role>))]
    pub role: Option<String>,
}

impl ExportUsersQuery {
    /// The same checks as the list's.
    pub fn validate(&self) -> Result<ListUsers, FieldErrors> {
        ListUsersQuery {
            q: self.q.clone(),
            sort: self.sort.clone(),
            role: self.role.clone(),
            ..ListUsersQuery::default()
        }
        .validate()
    }
}

/// A validated [`ListUsersQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUsers {
    pub page: u64,
    pub per_page: u64,
    pub q: Option<String>,
    pub sort: Sort,
    pub role: Option<Role>,
    /// Where to read from instead of `page` (it matches `sort`).
    pub cursor: Option<Cursor>,
}

impl Default for ListUsers {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: ListUsers::DEFAULT_PER_PAGE,
            q: None,
            sort: Sort::default(),
            role: None,
            cursor: None,
        }
    }
}

impl ListUsers {
    pub const DEFAULT_PER_PAGE: u64 = 20;
    pub const MAX_PER_PAGE: u64 = 100;
    /// Longest search term accepted; longer input cannot match a 254-character email
    /// anyway and only costs the database time.
    pub const MAX_Q: usize = 100;
}

impl ListUsersQuery {
    pub fn validate(&self) -> Result<ListUsers, FieldErrors> {
        let mut v = Validator::new();
        let (page, per_page) = paging(
            &mut v,
            &self.page,
            &self.per_page,
            ListUsers::DEFAULT_PER_PAGE,
            ListUsers::MAX_PER_PAGE,
        );
        let q = self.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if q.is_some_and(|q| q.chars().count() > ListUsers::MAX_Q) {
            v.fail(
                "q",
                format!("must be at most {} characters", ListUsers::MAX_Q),
            );
        }
        let sort = match self
            .sort
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(raw) => v.check("sort", Sort::parse(raw)),
            None => Some(Sort::default()),
        };
        let role = v.check_opt(
            "role",
            self.role.as_deref().filter(|s| !s.trim().is_empty()),
            Role::parse,
        );
        let cursor = match (self.cursor.as_deref().map(str::trim), sort) {
            (Some(raw), Some(sort)) if !raw.is_empty() => v.check(
                "cursor",
                list_cursor(raw, sort).ok_or_else(|| Cursor::RULE.to_owned()),
            ),
            _ => None,
        };
        if let (None, Some(page), Some(per_page)) = (&cursor, page, per_page)
            && (page - 1) * per_page >= LIST_TOTAL_CAP
        {
            v.fail(
                "page",
                format!(
                    "reaches past the first {LIST_TOTAL_CAP} accounts: go on from there with the `next` cursor"
                ),
            );
        }
        v.finish(|| ListUsers {
            page: cursor.as_ref().map_or(page.unwrap(), |c| c.page),
            per_page: per_page.unwrap(),
            q: q.map(str::to_owned),
            sort: sort.unwrap(),
            role,
            cursor,
        })
    }
}

impl From<&ListUsers> for ListUsersQuery {
    fn from(list: &ListUsers) -> Self {
        let default = ListUsers::default();
        Self {
            page: (list.page != default.page).then(|| list.page.to_string()),
            per_page: (list.per_page != default.per_page).then(|| list.per_page.to_string()),
            q: list.q.clone(),
            sort: (list.sort != default.sort).then(|| list.sort.to_string()),
            role: list.role.map(|r| r.as_str().to_owned()),
            cursor: list.cursor.as_ref().map(Cursor::encode),
        }
    }
}

/// `raw` as a cursor of the user list sorted by `sort`: its value must be one that
/// sort's column holds (a time for the times, present unless the column is nullable).
fn list_cursor(raw: &str, sort: Sort) -> Option<Cursor> {
    let cursor = Cursor::decode(raw).filter(|c| c.sort == sort.to_string())?;
    let fits = match (sort.key, cursor.value.as_deref()) {
        (SortKey::Username | SortKey::Email, value) => value.is_some(),
        (SortKey::CreatedAt, None) => false,
        (SortKey::CreatedAt | SortKey::LastLoginAt, Some(time)) => {
            chrono::DateTime::parse_from_rfc3339(time).is_ok()
        }
        (SortKey::LastLoginAt, None) => true,
    };
    (fits && i32::try_from(cursor.id).is_ok()).then_some(cursor)
}

/// One page of users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserPage {
    pub items: Vec<User>,
    /// Matching users across all pages, counted up to [`LIST_TOTAL_CAP`]: past it the
    /// count stops there and `total_exact` is false ("10,000+").
    pub total: u64,
    /// Whether `total` is the exact count.
    pub total_exact: bool,
    /// The page number: counted from the first page, following cursors.
    pub page: u64,
    pub per_page: u64,
    /// The cursor of the page after this one; null on the last page.
    pub next: Option<String>,
    /// The cursor of the page before this one; null on the first page.
    pub prev: Option<String>,
}

/// The most matches a list counts exactly; beyond it a count would cost as much as
/// the table is large.
pub const LIST_TOTAL_CAP: u64 = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn signup() -> SignupRequest {
        SignupRequest {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            username: "ada".into(),
            email: "ada@example.com".into(),
            mobile: "+447700900123".into(),
            password: "analytical engine 1843".into(),
            security_question: "First pet?".into(),
            security_answer: "Babbage".into(),
            ..SignupRequest::default()
        }
    }

    #[test]
    fn signup_reports_every_bad_field() {
        let errors = SignupRequest::default().validate().unwrap_err();
        for field in [
            "first_name",
            "last_name",
            "username",
            "email",
            "mobile",
            "password",
            "security_question",
            "security_answer",
        ] {
            assert_eq!(
                errors.get(field).map(String::as_str),
                Some("is required"),
                "{field}"
            );
        }
        assert!(signup().validate().is_ok());
    }

    #[test]
    fn answer_must_differ_from_password() {
        let mut req = signup();
        req.security_answer = " Analytical  ENGINE 1843 ".into();
        let errors = req.validate().unwrap_err();
        assert_eq!(
            errors["security_answer"],
            "must not be the same as the password"
        );
    }

    #[test]
    fn list_query_defaults_and_bounds() {
        let list = ListUsersQuery::default().validate().unwrap();
        assert_eq!(list, ListUsers::default());
        let bad = ListUsersQuery {
            per_page: Some("101".into()),
            page: Some("0".into()),
            sort: Some("password".into()),
            role: Some("root".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(bad.len(), 4, "{bad:?}");
        let sorted = ListUsersQuery {
            sort: Some("-last_login_at".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(
            sorted.sort,
            Sort {
                key: SortKey::LastLoginAt,
                descending: true
            }
        );
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        use crate::auth::LoginRequest;

        let debug = format!("{:?}", signup());
        assert!(
            !debug.contains("analytical") && !debug.contains("Babbage"),
            "{debug}"
        );
        let login = LoginRequest {
            username: "ada".into(),
            password: "hunter2hunter2".into(),
            device_token: Some("device-secret".into()),
        };
        let shown = format!("{login:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("device-secret"));
    }
}

string_enum!(
    /// What `POST /users/bulk` does to each account.
    BulkAction {
        Disable => "disable",
        Enable => "enable",
        Delete => "delete",
        /// Give each account `role`.
        SetRole => "set_role",
    }
);

/// Body of `POST /users/bulk`: one action for several accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BulkRequest {
    pub action: BulkAction,
    /// The accounts, 1 to 100 distinct ids.
    #[cfg_attr(feature = "openapi", schema(example = json!([12, 15, 16])))]
    pub ids: Vec<i32>,
    /// The new role, for `set_role` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

impl BulkRequest {
    pub const MAX_IDS: usize = 100;

    /// The checks before anything is done: the ids and the role.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut v = Validator::new();
        let mut seen = std::collections::HashSet::new();
        if self.ids.is_empty() || self.ids.len() > Self::MAX_IDS {
            v.fail("ids", format!("must list 1 to {} accounts", Self::MAX_IDS));
        } else if !self.ids.iter().all(|id| seen.insert(*id)) {
            v.fail("ids", "must not list an account twice");
        }
        match (self.action, self.role) {
            (BulkAction::SetRole, None) => v.fail("role", "is required to set a role"),
            (BulkAction::SetRole, Some(_)) | (_, None) => {}
            (_, Some(_)) => v.fail("role", "is only for set_role"),
        }
        v.finish(|| ())
    }
}

/// What happened to one account of a bulk action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BulkOutcome {
    pub id: i32,
    pub ok: bool,
    /// Why it was refused (the error that account alone would have got).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::ErrorBody>,
}

/// Answer of `POST /users/bulk`: each account's outcome, in the order asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BulkResponse {
    pub results: Vec<BulkOutcome>,
    /// How many were done.
    pub done: u32,
    /// How many were refused.
    pub failed: u32,
}
