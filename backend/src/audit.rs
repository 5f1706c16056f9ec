//! The audit trail: one `audit_events` row per security-relevant event, written
//! while the request is served, and the admins' query over it.
//!
//! A failed write is logged and does not fail the request: an outage of the trail
//! must not lock everyone out. Details hold field names, reasons and counts only;
//! callers never put secret values in them.

use sea_orm::sea_query::{Expr, ExprTrait, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
};
use serde_json::Value;
use shared::{AuditAction, AuditFilter, Cursor, LIST_TOTAL_CAP, Outcome, Party};

use crate::clock::now;
use crate::db::entity::audit_event::{self, Column, Entity as AuditEvents};
use crate::db::entity::user;

/// Who is on the other end of a request, as recorded in sessions and audit events.
/// The HTTP layer works it out (see `http::client_ip`); here it is plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// Longest user agent kept (the column's size).
    pub const MAX_USER_AGENT: usize = 255;
}

/// Longest name copied into an event (the column's size).
const MAX_NAME: usize = 64;

/// An event being recorded: `Event::new(action, outcome).actor(..).target(..)`.
#[derive(Debug, Clone)]
pub struct Event {
    action: AuditAction,
    outcome: Outcome,
    actor: Option<(Option<i32>, String)>,
    target: Option<(i32, String)>,
    detail: Option<Value>,
}

impl Event {
    pub fn new(action: AuditAction, outcome: Outcome) -> Self {
        Self {
            action,
            outcome,
            actor: None,
            target: None,
            detail: None,
        }
    }

    pub fn success(action: AuditAction) -> Self {
        Self::new(action, Outcome::Success)
    }

    pub fn failure(action: AuditAction) -> Self {
        Self::new(action, Outcome::Failure)
    }

    pub fn actor(mut self, user: &user::Model) -> Self {
        self.actor = Some((Some(user.id), user.username.clone()));
        self
    }

    /// An actor known only by a mark of the name it gave (a failed login of an
    /// unknown user; see `auth::login`): never the name itself, which may be a
    /// password typed into the wrong field.
    pub fn claimed_actor(mut self, mark: &str) -> Self {
        self.actor = Some((None, mark.chars().take(MAX_NAME).collect()));
        self
    }

    pub fn target(mut self, user: &user::Model) -> Self {
        self.target = Some((user.id, user.username.clone()));
        self
    }

    /// Acting on oneself: actor and target are `user`.
    pub fn by(self, user: &user::Model) -> Self {
        self.actor(user).target(user)
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Writes the event; a failure is logged, never returned.
    pub async fn record(self, db: &impl ConnectionTrait, client: &ClientInfo) {
        let action = self.action;
        if let Err(err) = self.insert(db, client).await {
            tracing::error!(%action, error = %err, "could not write an audit event");
        }
    }

    /// Writes the event, or fails: for a caller whose transaction must hold it with
    /// the change it records.
    pub async fn insert(self, db: &impl ConnectionTrait, client: &ClientInfo) -> Result<(), DbErr> {
        let (actor_id, actor_name) = self.actor.map_or((None, None), |(id, n)| (id, Some(n)));
        let (target_id, target_name) = self
            .target
            .map_or((None, None), |(id, n)| (Some(id), Some(n)));
        let row = audit_event::ActiveModel {
            at: Set(now()),
            actor_id: Set(actor_id),
            actor_name: Set(actor_name),
            action: Set(self.action),
            target_id: Set(target_id),
            target_name: Set(target_name),
            ip: Set(client.ip.clone()),
            user_agent: Set(client.user_agent.clone()),
            outcome: Set(self.outcome),
            detail: Set(self.detail.map(|d| d.to_string())),
            repeats: Set(1),
            last_at: Set(None),
            ..Default::default()
        };
        if self.outcome == Outcome::Failure && count_repeat(db, &row).await? {
            return Ok(());
        }
        // Not read back: MySQL has no RETURNING, and nobody needs the row.
        audit_event::Entity::insert(row)
            .exec_without_returning(db)
            .await?;
        Ok(())
    }
}

/// A failure repeated from the same source (same action, actor, target, address,
/// user agent and detail) within this long, with nothing else by that actor about
/// that target in between, counts on the first one's row: a stranger's thousand
/// guesses are one row, not a thousand, and the order of events is kept.
const REPEAT_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// Adds one to the newest event of `row`'s actor and target, if it is in the window
/// and `row` repeats it.
async fn count_repeat(
    db: &impl ConnectionTrait,
    row: &audit_event::ActiveModel,
) -> Result<bool, DbErr> {
    let same = |column: Column, value: &sea_orm::ActiveValue<Option<String>>| match value {
        sea_orm::ActiveValue::Set(Some(v)) => column.eq(v.clone()),
        _ => column.is_null(),
    };
    let same_id = |column: Column, value: &sea_orm::ActiveValue<Option<i32>>| match value {
        sea_orm::ActiveValue::Set(Some(v)) => column.eq(*v),
        _ => column.is_null(),
    };
    // The newest event of this actor about this target (the actor indexes serve it).
    let latest = AuditEvents::find()
        .filter(Column::At.gte(now() - REPEAT_WINDOW))
        .filter(same(Column::ActorName, &row.actor_name))
        .filter(same_id(Column::ActorId, &row.actor_id))
        .filter(same_id(Column::TargetId, &row.target_id))
        .order_by(Column::At, Order::Desc)
        .order_by(Column::Id, Order::Desc)
        .one(db)
        .await?;
    let repeats = |event: &audit_event::Model| {
        row.action.as_ref() == &event.action
            && row.outcome.as_ref() == &event.outcome
            && row.ip.as_ref() == &event.ip
            && row.user_agent.as_ref() == &event.user_agent
            && row.detail.as_ref() == &event.detail
    };
    let Some(event) = latest.filter(repeats) else {
        return Ok(false);
    };
    AuditEvents::update_many()
        .col_expr(Column::Repeats, Expr::col(Column::Repeats).add(1))
        .col_expr(Column::LastAt, Expr::value(now()))
        .filter(Column::Id.eq(event.id))
        .exec(db)
        .await?;
    Ok(true)
}

/// Deletes events older than `days` days, a batch at a time (at most `batches`
/// batches per call, so a first run on a big table does not hold the database);
/// returns how many went.
pub async fn purge_older_than(
    db: &impl ConnectionTrait,
    days: u32,
    batches: usize,
) -> Result<u64, DbErr> {
    let cutoff = now() - chrono::Duration::days(i64::from(days));
    let mut purged = 0;
    for _ in 0..batches {
        let ids: Vec<i64> = AuditEvents::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::At.lt(cutoff))
            .order_by(Column::At, Order::Asc)
            .limit(PURGE_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            break;
        }
        purged += AuditEvents::delete_many()
            .filter(Column::Id.is_in(ids))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(purged)
}

/// Rows deleted per statement by the retention purge.
const PURGE_BATCH: u64 = 5_000;

/// One page of the trail, as [`list`] reads it.
#[derive(Debug)]
pub struct AuditList {
    pub items: Vec<audit_event::Model>,
    /// Matching events, counted up to [`LIST_TOTAL_CAP`] + 1 (more than the cap means
    /// "10,000+").
    pub total: u64,
    pub page: u64,
    pub next: Option<Cursor>,
    pub prev: Option<Cursor>,
}

/// One page of events matching `filter`, newest first, its neighbours' cursors and
/// the number matching. Every read is a range of an index in `(at, id)` order: the
/// page starts at its cursor (`OFFSET` only within the first 10,000 events), and the
/// count stops past the cap, so both cost the same however long the trail is.
pub async fn list(db: &impl ConnectionTrait, filter: &AuditFilter) -> Result<AuditList, DbErr> {
    let (page, count) = list_queries(filter);
    let backwards = filter.cursor.as_ref().is_some_and(|c| c.before);
    let (mut rows, count) = tokio::try_join!(page.all(db), db.query_one(&count))?;
    let mut total = count.map_or(Ok(0), |row| row.try_get::<i64>("", "n"))?;
    let per_page = usize::try_from(filter.per_page).unwrap_or(usize::MAX);
    // One row more than the page says whether there is more in the reading direction.
    let more = rows.len() > per_page;
    rows.truncate(per_page);
    if backwards {
        rows.reverse();
    }
    if !more && filter.cursor.is_none() && filter.page == 1 {
        total = rows.len() as i64;
    }
    // Going back and finding nothing further back means this is the first page.
    let page = if backwards && !more { 1 } else { filter.page };
    let has_prev = if backwards { more } else { page > 1 };
    let has_next = backwards || more;
    Ok(AuditList {
        prev: rows
            .first()
            .filter(|_| has_prev)
            .map(|event| cursor_at(event, true, page - 1)),
        next: rows
            .last()
            .filter(|_| has_next)
            .map(|event| cursor_at(event, false, page + 1)),
        items: rows,
        total: u64::try_from(total).unwrap_or_default(),
        page,
    })
}

/// The two statements of [`list`]: the page (one row more than asked, in reading
/// order: oldest first for a `prev` cursor) and the capped count. Public so a test
/// can pin their query plans (EXPLAIN) on each database.
pub fn list_queries(filter: &AuditFilter) -> (sea_orm::Select<AuditEvents>, SelectStatement) {
    let matching = AuditEvents::find().filter(matching(filter));
    let mut page = matching.clone();
    if let Some(cursor) = &filter.cursor {
        page = page.filter(beyond(cursor));
    } else {
        page = page.offset((filter.page - 1) * filter.per_page);
    }
    // Newest first; a `prev` cursor reads up from its edge (the caller turns the rows
    // round).
    let order = match filter.cursor.as_ref().is_some_and(|c| c.before) {
        true => Order::Asc,
        false => Order::Desc,
    };
    let page = page
        .order_by(Column::At, order.clone())
        .order_by(Column::Id, order)
        .limit(filter.per_page + 1);
    let capped = matching
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

/// The filters of `filter` as one condition.
fn matching(filter: &AuditFilter) -> Condition {
    // Digits name an account id or a (numeric) username alike.
    let party = |id_column: Column, name_column: Column, party: &Party| match party {
        Party::Id(id) => Condition::any()
            .add(id_column.eq(*id))
            .add(name_column.eq(id.to_string())),
        Party::Name(name) => Condition::all().add(name_column.eq(name.as_str())),
    };
    let mut condition = Condition::all();
    if let Some(actor) = &filter.actor {
        condition = condition.add(party(Column::ActorId, Column::ActorName, actor));
    }
    if let Some(target) = &filter.target {
        condition = condition.add(party(Column::TargetId, Column::TargetName, target));
    }
    if let Some(action) = filter.action {
        condition = condition.add(Column::Action.eq(action));
    }
    if let Some(from) = filter.from {
        condition = condition.add(Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        condition = condition.add(Column::At.lt(to));
    }
    condition
}

/// The events past `cursor`'s edge event in its direction (older for `next`, newer
/// for `prev`), as `at <= v AND (at < v OR id < id0)`: the first part is where the
/// index range starts, the second drops the events tied with the edge before it.
fn beyond(cursor: &Cursor) -> Condition {
    let at = cursor
        .value
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(now, |t| t.with_timezone(&chrono::Utc));
    let id = cursor.id;
    if cursor.before {
        Condition::all().add(Column::At.gte(at)).add(
            Condition::any()
                .add(Column::At.gt(at))
                .add(Column::Id.gt(id)),
        )
    } else {
        Condition::all().add(Column::At.lte(at)).add(
            Condition::any()
                .add(Column::At.lt(at))
                .add(Column::Id.lt(id)),
        )
    }
}

fn cursor_at(event: &audit_event::Model, before: bool, page: u64) -> Cursor {
    Cursor {
        before,
        page: Ord::max(page, 1),
        sort: AuditFilter::SORT.to_owned(),
        value: Some(
            event
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        ),
        id: event.id,
    }
}

pub fn to_api(model: audit_event::Model) -> shared::AuditEvent {
    shared::AuditEvent {
        id: model.id,
        at: model.at,
        actor_id: model.actor_id,
        actor: model.actor_name,
        action: model.action,
        target_id: model.target_id,
        target: model.target_name,
        ip: model.ip,
        user_agent: model.user_agent,
        outcome: model.outcome,
        detail: model.detail.and_then(|raw| serde_json::from_str(&raw).ok()),
        repeats: u32::try_from(model.repeats).unwrap_or(1),
        last_at: model.last_at,
    }
}
