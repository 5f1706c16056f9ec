//! The audit trail: one `audit_events` row per security-relevant event, written
//! while the request is served, and the admins' query over it.
//!
//! A failed write is logged and does not fail the request: an outage of the trail
//! must not lock everyone out. Details hold field names, reasons and counts only;
//! callers never put secret values in them.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::Value;
use shared::validate::{Email, Username};
use shared::{AuditAction, AuditFilter, Outcome, Party};

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

/// Stands for a login name that was neither a username nor an email.
const UNREADABLE_NAME: &str = "(not a username or email)";

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

    /// An actor known only by the name it gave (a failed login of an unknown user).
    /// Only a name shaped like a username or an email is kept: people sometimes type
    /// their password into the name field, and the trail must not show it.
    pub fn claimed_actor(mut self, name: &str) -> Self {
        let name = name.trim();
        let plausible = Username::parse(name).is_ok() || Email::parse(name).is_ok();
        let shown = if plausible {
            name.to_lowercase().chars().take(MAX_NAME).collect()
        } else {
            UNREADABLE_NAME.to_owned()
        };
        self.actor = Some((None, shown));
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

    async fn insert(self, db: &impl ConnectionTrait, client: &ClientInfo) -> Result<(), DbErr> {
        let (actor_id, actor_name) = self.actor.map_or((None, None), |(id, n)| (id, Some(n)));
        let (target_id, target_name) = self
            .target
            .map_or((None, None), |(id, n)| (Some(id), Some(n)));
        audit_event::ActiveModel {
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
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(())
    }
}

/// One page of events matching `filter`, newest first, and the number matching.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
) -> Result<(Vec<audit_event::Model>, u64), DbErr> {
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
    let select = AuditEvents::find().filter(condition);
    let page = select
        .clone()
        .order_by(Column::At, Order::Desc)
        .order_by(Column::Id, Order::Desc)
        .offset((filter.page - 1) * filter.per_page)
        .limit(filter.per_page);
    tokio::try_join!(page.all(db), select.count(db))
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
    }
}
