//! Reading accounts: by id, by login name, and the searchable, sortable list.

use sea_orm::sea_query::{Expr, LikeExpr, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use shared::{LIST_TOTAL_CAP, ListUsers, SortKey};

use super::{AccountError, UniqueValues};
use crate::db::entity::user::{self, Column, Entity as Users};

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<user::Model>, DbErr> {
    Users::find_by_id(id).one(db).await
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<user::Model, AccountError> {
    find(db, id).await?.ok_or(AccountError::NotFound)
}

/// The account whose (current) address is `email`.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    Users::find().filter(Column::Email.eq(email)).one(db).await
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

/// Which accounts a list may show and search (see `policy::list_scope`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListScope {
    /// Search names only, not addresses or mobiles (the viewer cannot see those).
    pub names_only: bool,
    /// Only this account.
    pub only: Option<i32>,
}

/// One page of accounts and the number matching in all, counted up to
/// [`LIST_TOTAL_CAP`] + 1 (so the count costs at most that many index entries, however
/// large the table).
pub async fn list(
    db: &DatabaseConnection,
    params: &ListUsers,
    scope: ListScope,
) -> Result<(Vec<user::Model>, u64), DbErr> {
    let (page, count) = list_queries(params, scope);
    let count = async {
        let row = db.query_one(&count).await?;
        let n: i64 = row.map_or(Ok(0), |row| row.try_get("", "n"))?;
        Ok(u64::try_from(n).unwrap_or_default())
    };
    tokio::try_join!(page.all(db), count)
}

/// The two statements of a list: the page, and the capped count. Public so a test
/// can pin their query plans (EXPLAIN) on each database.
pub fn list_queries(
    params: &ListUsers,
    scope: ListScope,
) -> (sea_orm::Select<Users>, SelectStatement) {
    let mut select = Users::find();
    if let Some(id) = scope.only {
        select = select.filter(Column::Id.eq(id));
    }
    if let Some(q) = &params.q {
        select = select.filter(search_condition(q, scope.names_only));
    }
    if let Some(role) = params.role {
        select = select.filter(Column::Role.eq(role));
    }
    let order = if params.sort.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    // Usernames and emails are unique, so they order on their own, and MySQL walks
    // their unique index; the times need the id to break ties (their indexes end in it).
    let (column, unique) = match params.sort.key {
        SortKey::Username => (Column::Username, true),
        SortKey::Email => (Column::Email, true),
        SortKey::CreatedAt => (Column::CreatedAt, false),
        SortKey::LastLoginAt => (Column::LastLoginAt, false),
    };
    let mut page = select.clone().order_by(column, order.clone());
    if !unique {
        page = page.order_by(Column::Id, order);
    }
    let page = page
        .offset((params.page - 1) * params.per_page)
        .limit(params.per_page);
    let capped = select
        .select_only()
        .column(Column::Id)
        .limit(LIST_TOTAL_CAP + 1)
        .into_query();
    let count = SelectStatement::new()
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .from_subquery(capped, "capped")
        .to_owned();
    (page, count)
}

/// Case-insensitive prefix match (the columns collate case-insensitively), so every
/// branch can use an index. "ada lov" also matches first name "Ada" + last name
/// "Lovelace".
fn search_condition(q: &str, names_only: bool) -> Condition {
    let prefix = |s: &str| LikeExpr::new(format!("{}%", escape_like(s))).escape('\\');
    // Usernames and emails are stored lower-case and compare exactly.
    let lower = q.to_lowercase();
    let mut any = Condition::any()
        .add(Column::Username.like(prefix(&lower)))
        .add(Column::FirstName.like(prefix(q)))
        .add(Column::LastName.like(prefix(q)));
    if !names_only {
        any = any
            .add(Column::Email.like(prefix(&lower)))
            .add(Column::Mobile.like(prefix(q)));
        let digits = q.trim_start_matches('+');
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && !q.starts_with('+') {
            any = any.add(Column::Mobile.like(prefix(&format!("+{digits}"))));
        }
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

/// Which of `values` other accounts (not `exclude`) already hold.
pub(super) async fn taken_fields(
    db: &DatabaseConnection,
    values: &UniqueValues,
    exclude: Option<i32>,
) -> Result<Vec<&'static str>, DbErr> {
    let mut others = Users::find().filter(
        Condition::any()
            .add(Column::Username.eq(&values.username))
            .add(Column::Email.eq(&values.email))
            .add(Column::Mobile.eq(&values.mobile)),
    );
    if let Some(id) = exclude {
        others = others.filter(Column::Id.ne(id));
    }
    let others = others.limit(3).all(db).await?;
    let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
    let taken = [
        (
            "username",
            others.iter().any(|o| same(&o.username, &values.username)),
        ),
        (
            "email",
            others.iter().any(|o| same(&o.email, &values.email)),
        ),
        ("mobile", others.iter().any(|o| o.mobile == values.mobile)),
    ];
    Ok(taken
        .into_iter()
        .filter_map(|(field, taken)| taken.then_some(field))
        .collect())
}

/// Up to `limit` stored password hashes that are not today's argon2id (imported
/// accounts that have not logged in since).
pub async fn some_legacy_hashes(db: &DatabaseConnection, limit: u64) -> Result<Vec<String>, DbErr> {
    Users::find()
        .select_only()
        .column(Column::PasswordHash)
        .filter(
            Column::PasswordHash.not_like(format!("{}%", crate::auth::password::CURRENT_PREFIX)),
        )
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
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
