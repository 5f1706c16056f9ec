//! Accounts: queries and mutations on the `users` table. Handlers stay thin and call
//! these; every rule that needs the database (unique values, "keep one admin") is
//! enforced here, atomically.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr,
};
use secrecy::SecretString;
use shared::{ListUsers, NewAccount, ProfileChanges, Role, SortKey, User};

use crate::auth::lockout;
use crate::auth::password::Passwords;
use crate::auth::session;
use crate::database;
use crate::entity::first_admin;
use crate::entity::user::{self, Column, Entity as Users};
use crate::error::{ApiError, duplicate_field};

/// Timestamps are kept to whole seconds: MySQL's DATETIME has no fractions, and
/// SQLite should read back exactly what MySQL would.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

pub fn role_of(model: &user::Model) -> Role {
    Role::parse(&model.role).unwrap_or(Role::User)
}

pub fn to_api(model: user::Model) -> User {
    let locked_until = model
        .locked_until
        .filter(|_| lockout::is_locked(&model, Utc::now()));
    User {
        locked_until,
        disabled_at: model.disabled_at,
        role: role_of(&model),
        id: model.id,
        first_name: model.first_name,
        last_name: model.last_name,
        username: model.username,
        email: model.email,
        mobile: model.mobile,
        created_at: model.created_at,
        updated_at: model.updated_at,
        last_login_at: model.last_login_at,
    }
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<user::Model>, DbErr> {
    Users::find_by_id(id).one(db).await
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<user::Model, ApiError> {
    find(db, id).await?.ok_or(ApiError::NotFound)
}

/// The account a login names: by username, or by email when it contains `@`.
pub async fn find_by_login(
    db: &DatabaseConnection,
    login: &str,
) -> Result<Option<user::Model>, DbErr> {
    // Both are stored lower-case (see `Username::parse` and `Email::parse`).
    let login = login.trim().to_lowercase();
    let column = if login.contains('@') {
        Column::Email
    } else {
        Column::Username
    };
    Users::find().filter(column.eq(login)).one(db).await
}

/// Creates an account. With no explicit role, the first account of an empty database
/// becomes the admin and every later one a user.
pub async fn create(
    db: &DatabaseConnection,
    passwords: &Passwords,
    account: NewAccount,
    role: Option<Role>,
) -> Result<user::Model, ApiError> {
    let (password_hash, answer_hash) = tokio::try_join!(
        passwords.hash(SecretString::from(account.password.into_inner())),
        passwords.hash(SecretString::from(account.security_answer.into_inner())),
    )?;
    let unique = UniqueValues {
        username: account.username.into_inner(),
        email: account.email.into_inner(),
        mobile: account.mobile.into_inner(),
    };
    let now = now();
    let model = user::ActiveModel {
        first_name: Set(account.first_name.into_inner()),
        last_name: Set(account.last_name.into_inner()),
        username: Set(unique.username.clone()),
        email: Set(unique.email.clone()),
        mobile: Set(unique.mobile.clone()),
        password_hash: Set(password_hash),
        security_question: Set(Some(account.security_question.into_inner())),
        security_answer_hash: Set(Some(answer_hash)),
        role: Set(role.unwrap_or(Role::User).as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        ..Default::default()
    };
    let txn = database::begin_write(db).await?;
    let model = match model.insert(&txn).await {
        Ok(model) => model,
        Err(err) => {
            let _ = txn.rollback().await;
            return Err(explain_duplicates(db, err, &unique, None).await);
        }
    };
    // Every admin created before any other account claims the marker, so that a
    // database bootstrapped with `create-admin` promotes no later signup.
    let claimed = if role.is_none_or(|r| r == Role::Admin) {
        claim_first_admin(&txn, model.id).await?
    } else {
        false
    };
    let model = if role.is_none() && claimed {
        let mut promote = model.into_active_model();
        promote.role = Set(Role::Admin.as_str().to_owned());
        promote.update(&txn).await?
    } else {
        model
    };
    txn.commit().await?;
    Ok(model)
}

/// Records `user_id` as the first admin unless an account already is. The primary key
/// settles concurrent first signups: exactly one claim succeeds.
async fn claim_first_admin(txn: &impl ConnectionTrait, user_id: i32) -> Result<bool, DbErr> {
    // A plain insert: the conflict must be seen, and MySQL's upsert polyfill reports a
    // found row like an inserted one.
    let claim = first_admin::ActiveModel {
        id: Set(1),
        user_id: Set(user_id),
        created_at: Set(now()),
    };
    match first_admin::Entity::insert(claim)
        .exec_without_returning(txn)
        .await
    {
        Ok(_) => Ok(true),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Ok(false)
        }
        Err(err) => Err(err),
    }
}

/// Settles the first-admin rule without promoting anyone: used once accounts exist
/// that did not sign up (an import), so that no later signup becomes admin by being
/// "first". Admins are then made with `create-admin` or by another admin.
pub async fn close_first_admin_claim(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    claim_first_admin(db, 0).await.map(|_| ())
}

/// Whether any enabled admin account exists.
pub async fn any_admin(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    let admin = Users::find()
        .filter(Column::Role.eq(Role::Admin.as_str()))
        .filter(Column::DisabledAt.is_null())
        .one(db)
        .await?;
    Ok(admin.is_some())
}

/// One page of accounts and the number matching in all.
pub async fn list(
    db: &DatabaseConnection,
    params: &ListUsers,
) -> Result<(Vec<user::Model>, u64), DbErr> {
    let mut select = Users::find();
    if let Some(q) = &params.q {
        select = select.filter(search_condition(q));
    }
    if let Some(role) = params.role {
        select = select.filter(Column::Role.eq(role.as_str()));
    }
    let order = if params.sort.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let column = match params.sort.key {
        SortKey::Username => Column::Username,
        SortKey::Email => Column::Email,
        SortKey::CreatedAt => Column::CreatedAt,
        SortKey::LastLoginAt => Column::LastLoginAt,
    };
    let page = select
        .clone()
        .order_by(column, order.clone())
        .order_by(Column::Id, order)
        .offset((params.page - 1) * params.per_page)
        .limit(params.per_page);
    tokio::try_join!(page.all(db), select.count(db))
}

/// Case-insensitive prefix match (the columns collate case-insensitively), so every
/// branch can use an index. "ada lov" also matches first name "Ada" + last name
/// "Lovelace".
fn search_condition(q: &str) -> Condition {
    let prefix = |s: &str| LikeExpr::new(format!("{}%", escape_like(s))).escape('\\');
    // Usernames and emails are stored lower-case and compare exactly.
    let lower = q.to_lowercase();
    let mut any = Condition::any()
        .add(Column::Username.like(prefix(&lower)))
        .add(Column::Email.like(prefix(&lower)))
        .add(Column::FirstName.like(prefix(q)))
        .add(Column::LastName.like(prefix(q)))
        .add(Column::Mobile.like(prefix(q)));
    let digits = q.trim_start_matches('+');
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && !q.starts_with('+') {
        any = any.add(Column::Mobile.like(prefix(&format!("+{digits}"))));
    }
    if let Some((first, last)) = q.split_once(char::is_whitespace) {
        let last = last.trim();
        if !last.is_empty() {
            any = any.add(
                Condition::all()
                    .add(Column::FirstName.like(prefix(first)))
                    .add(Column::LastName.like(prefix(last))),
            );
        }
    }
    any
}

fn escape_like(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The values of an account that no other account may share.
struct UniqueValues {
    username: String,
    email: String,
    mobile: String,
}

/// Turns a unique-key violation into a 409 naming every taken field, not just the
/// one the database happened to check first. Runs only on the error path.
async fn explain_duplicates(
    db: &DatabaseConnection,
    err: DbErr,
    values: &UniqueValues,
    exclude: Option<i32>,
) -> ApiError {
    if duplicate_field(&err).is_none() {
        return err.into();
    }
    let mut others = Users::find().filter(
        Condition::any()
            .add(Column::Username.eq(&values.username))
            .add(Column::Email.eq(&values.email))
            .add(Column::Mobile.eq(&values.mobile)),
    );
    if let Some(id) = exclude {
        others = others.filter(Column::Id.ne(id));
    }
    let Ok(others) = others.limit(3).all(db).await else {
        return err.into();
    };
    let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
    let mut fields = Vec::new();
    for (field, taken) in [
        (
            "username",
            others.iter().any(|o| same(&o.username, &values.username)),
        ),
        (
            "email",
            others.iter().any(|o| same(&o.email, &values.email)),
        ),
        ("mobile", others.iter().any(|o| o.mobile == values.mobile)),
    ] {
        if taken {
            fields.push(field);
        }
    }
    if fields.is_empty() {
        return err.into();
    }
    ApiError::Duplicate(fields)
}

/// Everything an update may change, already validated and hashed.
#[derive(Default)]
pub struct Update {
    pub profile: ProfileChanges,
    pub security_answer_hash: Option<String>,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
}

/// Profile changes ready to store: the new security answer, if any, hashed.
pub async fn profile_update(
    passwords: &Passwords,
    mut profile: ProfileChanges,
) -> Result<Update, ApiError> {
    let security_answer_hash = match profile.security_answer.take() {
        Some(answer) => Some(
            passwords
                .hash(SecretString::from(answer.into_inner()))
                .await?,
        ),
        None => None,
    };
    Ok(Update {
        profile,
        security_answer_hash,
        ..Default::default()
    })
}

/// An applied update: the account as stored now, and what changed.
#[derive(Debug)]
pub struct Updated {
    pub user: user::Model,
    /// Names of the fields whose value changed (secrets by name only).
    pub changed: Vec<&'static str>,
    pub previous_role: Role,
}

impl Updated {
    pub fn role_changed(&self) -> bool {
        role_of(&self.user) != self.previous_role
    }
}

/// Applies `update` to account `id` in one transaction. Demoting the last admin is
/// refused; a role or password change ends every session of the account.
pub async fn update(db: &DatabaseConnection, id: i32, update: Update) -> Result<Updated, ApiError> {
    let txn = database::begin_write(db).await?;
    // Admin rows are locked before the target row, in every transaction that may
    // remove an admin, so two of them queue instead of deadlocking.
    let admins = match update.role {
        Some(_) => Some(lock_admins(&txn).await?),
        None => None,
    };
    let current = Users::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let role_changes = update.role.is_some_and(|r| r != role_of(&current));
    if role_changes && is_active_admin(&current) {
        ensure_another_admin(admins.as_deref().unwrap_or_default())?;
    }
    let ends_sessions = role_changes || update.password_hash.is_some();

    let p = update.profile;
    let unique = UniqueValues {
        username: p
            .username
            .as_ref()
            .map_or(current.username.clone(), |v| v.as_str().to_owned()),
        email: p
            .email
            .as_ref()
            .map_or(current.email.clone(), |v| v.as_str().to_owned()),
        mobile: p
            .mobile
            .as_ref()
            .map_or(current.mobile.clone(), |v| v.as_str().to_owned()),
    };
    let before = current.clone();
    let mut model = current.into_active_model();
    if let Some(v) = p.first_name {
        model.first_name = Set(v.into_inner());
    }
    if let Some(v) = p.last_name {
        model.last_name = Set(v.into_inner());
    }
    if let Some(v) = p.username {
        model.username = Set(v.into_inner());
    }
    if let Some(v) = p.email {
        model.email = Set(v.into_inner());
    }
    if let Some(v) = p.mobile {
        model.mobile = Set(v.into_inner());
    }
    if let Some(v) = p.security_question {
        model.security_question = Set(Some(v.into_inner()));
    }
    if let Some(hash) = update.security_answer_hash {
        model.security_answer_hash = Set(Some(hash));
    }
    if let Some(role) = update.role {
        model.role = Set(role.as_str().to_owned());
    }
    if let Some(hash) = update.password_hash {
        model.password_hash = Set(hash);
        // A new password (reset, admin, change) starts with a clean slate.
        model.failed_logins = Set(0);
        model.locked_until = Set(None);
    }
    model.updated_at = Set(now());
    let updated = match model.update(&txn).await {
        Ok(updated) => updated,
        Err(err) => {
            let _ = txn.rollback().await;
            return Err(explain_duplicates(db, err, &unique, Some(id)).await);
        }
    };
    if ends_sessions {
        session::revoke_all(&txn, id).await?;
    }
    txn.commit().await?;
    let changed: Vec<&'static str> = [
        ("first_name", before.first_name != updated.first_name),
        ("last_name", before.last_name != updated.last_name),
        ("username", before.username != updated.username),
        ("email", before.email != updated.email),
        ("mobile", before.mobile != updated.mobile),
        (
            "security_question",
            before.security_question != updated.security_question,
        ),
        (
            "security_answer",
            before.security_answer_hash != updated.security_answer_hash,
        ),
        ("role", before.role != updated.role),
        ("password", before.password_hash != updated.password_hash),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect();
    Ok(Updated {
        previous_role: role_of(&before),
        user: updated,
        changed,
    })
}

/// Deletes account `id` (its sessions go with it), unless it is the last admin.
/// Returns the account as it was.
pub async fn delete(db: &DatabaseConnection, id: i32) -> Result<user::Model, ApiError> {
    let (txn, admins, current) = lock_account(db, id).await?;
    if is_active_admin(&current) {
        ensure_another_admin(&admins)?;
    }
    session::revoke_all(&txn, id).await?;
    Users::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(current)
}

/// Disables account `id` (ending its sessions) or enables it again. The last active
/// admin cannot be disabled. Returns the account and whether anything changed.
pub async fn set_disabled(
    db: &DatabaseConnection,
    id: i32,
    disabled: bool,
) -> Result<(user::Model, bool), ApiError> {
    let (txn, admins, current) = lock_account(db, id).await?;
    if disabled == current.disabled_at.is_some() {
        txn.commit().await?;
        return Ok((current, false));
    }
    if disabled && is_active_admin(&current) {
        ensure_another_admin(&admins)?;
    }
    let mut model = current.into_active_model();
    model.disabled_at = Set(disabled.then(now));
    model.updated_at = Set(now());
    let updated = model.update(&txn).await?;
    if disabled {
        session::revoke_all(&txn, id).await?;
    }
    txn.commit().await?;
    Ok((updated, true))
}

/// Opens a write transaction holding the enabled admins' rows, then account `id`'s:
/// the lock order of every change that may take an admin away, so two of them queue
/// instead of deadlocking.
async fn lock_account(
    db: &DatabaseConnection,
    id: i32,
) -> Result<(DatabaseTransaction, Vec<i32>, user::Model), ApiError> {
    let txn = database::begin_write(db).await?;
    let admins = lock_admins(&txn).await?;
    let current = Users::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((txn, admins, current))
}

fn is_active_admin(model: &user::Model) -> bool {
    role_of(model) == Role::Admin && model.disabled_at.is_none()
}

/// The ids of enabled admins, locked (on MySQL) until the transaction ends.
async fn lock_admins(txn: &impl ConnectionTrait) -> Result<Vec<i32>, DbErr> {
    Users::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Role.eq(Role::Admin.as_str()))
        .filter(Column::DisabledAt.is_null())
        .order_by_asc(Column::Id)
        .lock_exclusive()
        .into_tuple()
        .all(txn)
        .await
}

fn ensure_another_admin(admins: &[i32]) -> Result<(), ApiError> {
    if admins.len() <= 1 {
        return Err(ApiError::Conflict(
            "This is the last admin account; make another admin first.",
        ));
    }
    Ok(())
}

/// Swaps a legacy hash for an upgraded one, unless the password changed meanwhile.
pub async fn replace_password_hash(
    db: &DatabaseConnection,
    id: i32,
    old: &str,
    new: &str,
) -> Result<bool, DbErr> {
    let result = Users::update_many()
        .col_expr(Column::PasswordHash, Expr::value(new))
        .filter(Column::Id.eq(id))
        .filter(Column::PasswordHash.eq(old))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_off\"), r"50\%\_off\\");
    }
}
