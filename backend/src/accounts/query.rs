//! Reading accounts: by id, by login name, and the searchable, sortable list.

use chrono::SecondsFormat;
use sea_orm::sea_query::{Expr, LikeExpr, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use shared::search::{TermKind, query_terms};
use shared::{Cursor, LIST_TOTAL_CAP, ListUsers, SortKey};

use super::{AccountError, UniqueValues};
use crate::db::entity::user::{self, Column, Entity as Users};
use crate::db::entity::user_search_term::{Column as TermColumn, Entity as Terms};

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

/// One page of a list.
#[derive(Debug)]
pub struct ListPage {
    pub items: Vec<user::Model>,
    /// Accounts matching in all, counted up to [`LIST_TOTAL_CAP`] + 1 (so the count
    /// costs at most that many index entries, however large the table).
    pub total: u64,
    /// The page number (from the cursor when there was one).
    pub page: u64,
    pub next: Option<Cursor>,
    pub prev: Option<Cursor>,
}

/// How a list reads the accounts its search words match. Each word's matches are
/// counted first (up to [`LIST_TOTAL_CAP`] + 1, a range of the terms' index): when
/// one word is rare (at most `RARE`, 1,000, matches), its matches drive the query and the
/// other words are checked per account; when every word is common, the list walks the
/// sort order's index and checks each account until the page is full, which takes few
/// steps exactly because the matches are dense (and falls back to the rarest word's
/// matches if `WALK` (4,000) accounts were not enough).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPlan {
    /// The rarest word, whose matches are read first.
    pub drive: Option<String>,
    /// The words checked account by account, rarest first.
    pub check: Vec<String>,
    /// No word is rare: the total is not counted (see `matches`).
    pub estimated: bool,
    /// With a single common word, how many accounts it matches (counted up to the
    /// cap + 1): the list's total when nothing else filters it.
    pub matches: Option<u64>,
    /// How far a walk of the sort order may go (common words can still cluster far
    /// down the order, or have few matches in common): past this row the list reads
    /// the rarest word's matches instead.
    pub walk_until: Option<Cursor>,
}

/// Matches a word may have and still drive the query: reading and sorting that many
/// accounts costs about what walking the order to fill a page does.
const RARE: u64 = 1_000;

/// Accounts a search walks in sort order before it falls back to reading its rarest
/// word's matches: a few milliseconds of checks.
const WALK: u64 = 4_000;

/// Plans the search of `q` (see [`SearchPlan`]).
pub async fn plan_search(
    db: &DatabaseConnection,
    q: Option<&str>,
    scope: ListScope,
) -> Result<SearchPlan, DbErr> {
    let terms = q.map(query_terms).unwrap_or_default();
    let counts = futures::future::try_join_all(terms.iter().map(|term| async {
        let matches = SelectStatement::new()
            .expr_as(Expr::cust("COUNT(*)"), "n")
            .from_subquery(
                term_matches(term, scope.names_only)
                    .distinct()
                    .limit(LIST_TOTAL_CAP + 1)
                    .to_owned(),
                "capped",
            )
            .to_owned();
        count(db, &matches).await
    }))
    .await?;
    let mut by_count: Vec<(u64, String)> = counts.into_iter().zip(terms).collect();
    by_count.sort();
    let rare = by_count.first().is_some_and(|(n, _)| *n <= RARE);
    let matches = match by_count.as_slice() {
        [(n, _)] => Some(*n),
        _ => None,
    };
    let mut check: Vec<String> = by_count.into_iter().map(|(_, term)| term).collect();
    let drive = rare.then(|| check.remove(0));
    Ok(SearchPlan {
        estimated: drive.is_none() && !check.is_empty(),
        matches,
        drive,
        check,
        walk_until: None,
    })
}

async fn count(db: &DatabaseConnection, statement: &SelectStatement) -> Result<u64, DbErr> {
    let row = db.query_one(statement).await?;
    let n: i64 = row.map_or(Ok(0), |row| row.try_get("", "n"))?;
    Ok(u64::try_from(n).unwrap_or_default())
}

/// One page of accounts, its neighbours' cursors and the (capped) number matching.
pub async fn list(
    db: &DatabaseConnection,
    params: &ListUsers,
    scope: ListScope,
) -> Result<ListPage, DbErr> {
    read_page(db, params, scope, Total::Counted).await
}

/// Whether a page read also counts the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// Up to the cap, for a page shown to someone.
    Counted,
    /// Not at all, for a walk that follows the cursors to the end (the export):
    /// `ListPage::total` is then 0.
    Skipped,
}

/// [`list`], counting or not.
pub async fn read_page(
    db: &DatabaseConnection,
    params: &ListUsers,
    scope: ListScope,
    counting: Total,
) -> Result<ListPage, DbErr> {
    let mut plan = plan_search(db, params.q.as_deref(), scope).await?;
    if plan.estimated {
        plan.walk_until = walk_boundary(db, params, scope).await?;
    }
    let (page, capped_count) = list_queries(params, scope, &plan);
    // With only common words, counting would walk the table: a lone word's own count
    // when nothing else filters, else "more than the cap".
    let unfiltered = params.role.is_none() && scope.only.is_none();
    let total = async {
        if counting == Total::Skipped {
            return Ok(0);
        }
        match (&capped_count, plan.matches) {
            (Some(statement), _) => count(db, statement).await,
            (None, Some(n)) if unfiltered => Ok(n),
            (None, _) => Ok(LIST_TOTAL_CAP + 1),
        }
    };
    let (mut rows, mut total) = tokio::try_join!(page.all(db), total)?;
    let per_page = usize::try_from(params.per_page).unwrap_or(usize::MAX);
    if rows.len() <= per_page && plan.walk_until.is_some() {
        // The walk ended before the page filled: read the rarest word's matches.
        plan.walk_until = None;
        plan.drive = Some(plan.check.remove(0));
        rows = list_queries(params, scope, &plan).0.all(db).await?;
    }
    // One row more than the page says whether there is more in the reading direction.
    let more = rows.len() > per_page;
    if counting == Total::Counted && !more && params.cursor.is_none() && params.page == 1 {
        // Everything is on this page: that is the exact count.
        total = rows.len() as u64;
    }
    rows.truncate(per_page);
    let backwards = params.cursor.as_ref().is_some_and(|c| c.before);
    if backwards {
        rows.reverse();
    }
    // Going back and finding nothing further back means this is the first page.
    let page = if backwards && !more { 1 } else { params.page };
    let has_prev = if backwards { more } else { page > 1 };
    let has_next = if backwards { true } else { more };
    Ok(ListPage {
        prev: rows
            .first()
            .filter(|_| has_prev)
            .map(|u| cursor_at(u, params, true, page - 1)),
        next: rows
            .last()
            .filter(|_| has_next)
            .map(|u| cursor_at(u, params, false, page + 1)),
        items: rows,
        total,
        page,
    })
}

/// The two statements of a list: the page (one row more than asked, in reading
/// order: reversed for a `prev` cursor), and the capped count unless `search` says
/// it would cost too much. Public so a test can pin their query plans (EXPLAIN) on
/// each database.
pub fn list_queries(
    params: &ListUsers,
    scope: ListScope,
    search: &SearchPlan,
) -> (sea_orm::Select<Users>, Option<SelectStatement>) {
    let mut select = filtered(params, scope);
    if let Some(term) = &search.drive {
        select = select.filter(Column::Id.in_subquery(term_matches(term, scope.names_only)));
    }
    for term in &search.check {
        // A scalar subquery, not `EXISTS` or `IN`, which MariaDB would turn into a
        // semi-join reading every match first.
        let one = term_matches(term, scope.names_only)
            .clear_selects()
            .expr(Expr::val(1))
            .and_where(sea_orm::sea_query::ExprTrait::equals(
                Expr::col((Terms, TermColumn::UserId)),
                (Users, Column::Id),
            ))
            .limit(1)
            .to_owned();
        select = select.filter(sea_orm::sea_query::ExprTrait::eq(Expr::from(one), 1));
    }
    if let Some(edge) = &search.walk_until {
        select = select.filter(beyond(edge, params.sort.key, reads_descending(params)).not());
    }
    let capped = select
        .clone()
        .select_only()
        .column(Column::Id)
        .limit(LIST_TOTAL_CAP + 1)
        .into_query();
    let count = (!search.estimated).then(|| {
        SelectStatement::new()
            .expr_as(Expr::cust("COUNT(*)"), "n")
            .from_subquery(capped, "capped")
            .to_owned()
    });

    (
        in_reading_order(select, params).limit(params.per_page + 1),
        count,
    )
}

/// The accounts of the list before any search: the scope and the role filter.
fn filtered(params: &ListUsers, scope: ListScope) -> sea_orm::Select<Users> {
    let mut select = Users::find();
    if let Some(id) = scope.only {
        select = select.filter(Column::Id.eq(id));
    }
    if let Some(role) = params.role {
        select = select.filter(Column::Role.eq(role));
    }
    select
}

/// Whether the page is read in descending order (a `prev` cursor reads backwards).
fn reads_descending(params: &ListUsers) -> bool {
    params.sort.descending != params.cursor.as_ref().is_some_and(|c| c.before)
}

/// `select` from where the page starts (past the cursor, or the page's offset), in
/// reading order.
fn in_reading_order(select: sea_orm::Select<Users>, params: &ListUsers) -> sea_orm::Select<Users> {
    let (column, unique) = sort_column(params.sort.key);
    let descending = reads_descending(params);
    let mut page = match &params.cursor {
        Some(cursor) => select.filter(beyond(cursor, params.sort.key, descending)),
        None => select.offset((params.page - 1) * params.per_page),
    };
    let order = if descending { Order::Desc } else { Order::Asc };
    // Usernames and emails are unique, so they order on their own, and MySQL walks
    // their unique index; the times need the id to break ties (their indexes end in it).
    page = page.order_by(column, order.clone());
    if !unique {
        page = page.order_by(Column::Id, order);
    }
    page
}

/// The row [`WALK`] rows into the page's reading order (an index-only skip), if the
/// list goes on that far.
async fn walk_boundary(
    db: &DatabaseConnection,
    params: &ListUsers,
    scope: ListScope,
) -> Result<Option<Cursor>, DbErr> {
    let start = match params.cursor {
        Some(_) => 0,
        None => (params.page - 1) * params.per_page,
    };
    // Only the id, so the skip reads the index and not the rows.
    let edge: Option<i32> = in_reading_order(filtered(params, scope), params)
        .select_only()
        .column(Column::Id)
        .offset(start + WALK)
        .into_tuple()
        .one(db)
        .await?;
    let edge = match edge {
        Some(id) => find(db, id).await?,
        None => None,
    };
    Ok(edge.map(|user| cursor_at(&user, params, false, 1)))
}

fn sort_column(key: SortKey) -> (Column, bool) {
    match key {
        SortKey::Username => (Column::Username, true),
        SortKey::Email => (Column::Email, true),
        SortKey::CreatedAt => (Column::CreatedAt, false),
        SortKey::LastLoginAt => (Column::LastLoginAt, false),
    }
}

/// The cursor at `user`'s row of the list `params` sorts, going forwards or back to
/// page `page`.
fn cursor_at(user: &user::Model, params: &ListUsers, before: bool, page: u64) -> Cursor {
    Cursor {
        before,
        page: page.max(1),
        sort: params.sort.to_string(),
        value: sort_value(user, params.sort.key),
        id: i64::from(user.id),
    }
}

/// The value `user` is sorted by under `key`, as a cursor carries it.
fn sort_value(user: &user::Model, key: SortKey) -> Option<String> {
    let time = |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    match key {
        SortKey::Username => Some(user.username.clone()),
        SortKey::Email => Some(user.email.clone()),
        SortKey::CreatedAt => Some(time(&user.created_at)),
        SortKey::LastLoginAt => user.last_login_at.as_ref().map(time),
    }
}

/// The rows strictly past `cursor`'s edge row when reading in `descending` order,
/// written as ranges of the sort's index. Both databases put nulls first going up
/// and last going down (only `last_login_at` has any).
fn beyond(cursor: &Cursor, key: SortKey, descending: bool) -> Condition {
    let (column, unique) = sort_column(key);
    let id = i32::try_from(cursor.id).unwrap_or(i32::MAX);
    let id_past = if descending {
        Column::Id.lt(id)
    } else {
        Column::Id.gt(id)
    };
    let value: Option<sea_orm::Value> = match key {
        SortKey::Username | SortKey::Email => cursor.value.clone().map(Into::into),
        SortKey::CreatedAt | SortKey::LastLoginAt => cursor
            .value
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc).into()),
    };
    match (value, descending) {
        (None, false) => Condition::any()
            .add(Condition::all().add(column.is_null()).add(id_past))
            .add(column.is_not_null()),
        (None, true) => Condition::all().add(column.is_null()).add(id_past),
        (Some(value), descending) => {
            let (past, from) = if descending {
                (column.lt(value.clone()), column.lte(value))
            } else {
                (column.gt(value.clone()), column.gte(value))
            };
            // `col >= v AND (col > v OR id > id0)`: the first part is where the range
            // starts (SQLite cannot start a range from the OR alone), the second drops
            // the rows tied with the edge that came before it.
            let past = if unique {
                Condition::all().add(past)
            } else {
                Condition::all()
                    .add(from)
                    .add(Condition::any().add(past).add(id_past))
            };
            if descending && key == SortKey::LastLoginAt {
                // Going down, the never-logged-in come after every time.
                Condition::any().add(past).add(column.is_null())
            } else {
                past
            }
        }
    }
}

/// The ids of accounts with a term starting with `term` (a range of the terms'
/// primary key).
fn term_matches(term: &str, names_only: bool) -> SelectStatement {
    let mut select = Terms::find()
        .select_only()
        .column(TermColumn::UserId)
        .filter(
            TermColumn::Term.like(LikeExpr::new(format!("{}%", escape_like(term))).escape('\\')),
        );
    if names_only {
        select = select.filter(TermColumn::Kind.eq(TermKind::Name.code()));
    }
    select.into_query()
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
