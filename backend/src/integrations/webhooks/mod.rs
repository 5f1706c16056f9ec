//! Webhooks: admins register receivers; account changes reach them signed, in order
//! of commit, at least once, and each event exactly once in the common case.
//!
//! - **Outbox.** [`enqueue`] writes one `webhook_deliveries` row per subscribed
//!   endpoint *in the transaction of the change*: a committed change always has its
//!   deliveries, a rolled-back one never has, and a crash between commit and sending
//!   loses nothing (the row waits for the next deliverer).
//! - **One deliverer per event.** Every instance runs a [`Deliverer`]; before sending,
//!   it claims a due row with a conditional `UPDATE` (`claimed_until` in the past),
//!   which only one instance can win, on one database or across Galera nodes. A claim
//!   left by a crash expires and the row is sent again, with the same `webhook-id`,
//!   so receivers drop the repeat (the Standard Webhooks contract).
//! - **Retries** follow [`WebhookSettings::backoff`] (about 24 hours by default), then
//!   the delivery is `failed`; an admin can resend it.
//! - **No SSRF.** Receivers must be `https` and resolve only to public addresses,
//!   unless `WEBHOOK_ALLOW_PRIVATE` allows private and loopback ones (development,
//!   a receiver inside the cluster). The address is checked when registering and
//!   resolved again, and pinned, at every delivery; redirects are not followed.

mod deliver;
mod guard;
pub mod signature;

use std::time::Duration;

use chrono::Utc;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use shared::{
    DeliveryStatus, NewWebhook, User, WebhookDelivery, WebhookEndpoint, WebhookEventType,
};

pub use self::deliver::Deliverer;
pub use self::guard::check_url;
use crate::clock::now;
use crate::db::entity::webhook_delivery::{self, Column as D, Entity as Deliveries};
use crate::db::entity::webhook_endpoint::{self, Column as E, Entity as Endpoints};

/// How deliveries are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Whether receivers may be on private, loopback or link-local addresses
    /// (`WEBHOOK_ALLOW_PRIVATE`); plain `http` is allowed to loopback only then.
    pub allow_private: bool,
    /// The wait before each retry; after the last, the delivery has failed.
    pub backoff: Vec<Duration>,
    /// How long a receiver may take to answer.
    pub timeout: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Self {
            allow_private: false,
            // 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 8 h, 8 h: about 23.6 hours in all.
            backoff: vec![
                Duration::from_secs(5),
                minutes(1),
                minutes(5),
                minutes(30),
                minutes(120),
                minutes(300),
                minutes(480),
                minutes(480),
            ],
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why registering an endpoint was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}")]
    Url(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// The most deliveries an endpoint lists.
pub const RECENT: u64 = 50;
/// The most endpoints (each event is written once per endpoint).
pub const MAX_ENDPOINTS: u64 = 20;

fn events_of(endpoint: &webhook_endpoint::Model) -> Vec<WebhookEventType> {
    endpoint
        .events
        .split(',')
        .filter_map(WebhookEventType::parse)
        .collect()
}

pub fn endpoint_to_api(endpoint: webhook_endpoint::Model) -> WebhookEndpoint {
    WebhookEndpoint {
        events: events_of(&endpoint),
        id: endpoint.id,
        url: endpoint.url,
        description: endpoint.description,
        created_at: endpoint.created_at,
    }
}

pub fn delivery_to_api(row: webhook_delivery::Model) -> WebhookDelivery {
    WebhookDelivery {
        id: row.id,
        event_type: WebhookEventType::parse(&row.event_type)
            .unwrap_or(WebhookEventType::UserUpdated),
        message_id: row.message_id,
        status: row.status,
        attempts: u32::try_from(row.attempts).unwrap_or_default(),
        next_attempt_at: row.next_attempt_at,
        last_status: row.last_status.and_then(|s| u16::try_from(s).ok()),
        last_error: row.last_error,
        created_at: row.created_at,
        delivered_at: row.delivered_at,
    }
}

/// Registers an endpoint; returns it and its signing secret.
pub async fn create(
    db: &impl ConnectionTrait,
    settings: &WebhookSettings,
    new: NewWebhook,
) -> Result<(webhook_endpoint::Model, String), WebhookError> {
    check_url(&new.url, settings.allow_private)
        .await
        .map_err(WebhookError::Url)?;
    let existing = Endpoints::find()
        .select_only()
        .column(E::Id)
        .limit(MAX_ENDPOINTS)
        .into_tuple::<i32>()
        .all(db)
        .await?;
    if existing.len() as u64 >= MAX_ENDPOINTS {
        return Err(WebhookError::Url(format!(
            "at most {MAX_ENDPOINTS} endpoints may be registered"
        )));
    }
    let secret = signature::new_secret();
    let events: Vec<&str> = new.events.iter().map(|e| e.as_str()).collect();
    let endpoint = webhook_endpoint::ActiveModel {
        url: Set(new.url),
        description: Set(new.description),
        events: Set(events.join(",")),
        secret: Set(secret.clone()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((endpoint, secret))
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<webhook_endpoint::Model>, DbErr> {
    Endpoints::find()
        .order_by_asc(E::Id)
        .limit(MAX_ENDPOINTS)
        .all(db)
        .await
}

/// Removes endpoint `id` and its deliveries; `false` if there was none.
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<bool, DbErr> {
    Deliveries::delete_many()
        .filter(D::EndpointId.eq(id))
        .exec(db)
        .await?;
    let gone = Endpoints::delete_by_id(id).exec(db).await?;
    Ok(gone.rows_affected == 1)
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<webhook_endpoint::Model>, DbErr> {
    Endpoints::find_by_id(id).one(db).await
}

/// The newest deliveries of endpoint `id`.
pub async fn recent_deliveries(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Vec<webhook_delivery::Model>, DbErr> {
    Deliveries::find()
        .filter(D::EndpointId.eq(id))
        .order_by_desc(D::Id)
        .limit(RECENT)
        .all(db)
        .await
}

/// Sends delivery `delivery` of endpoint `endpoint` again, now, with a fresh retry
/// budget; `None` if there is no such delivery.
pub async fn resend(
    db: &impl ConnectionTrait,
    endpoint: i32,
    delivery: i64,
) -> Result<Option<webhook_delivery::Model>, DbErr> {
    let updated = Deliveries::update_many()
        .col_expr(D::Status, Expr::value(DeliveryStatus::Pending.as_str()))
        .col_expr(D::Attempts, Expr::value(0))
        .col_expr(D::NextAttemptAt, Expr::value(now()))
        .col_expr(
            D::ClaimedUntil,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(D::Id.eq(delivery))
        .filter(D::EndpointId.eq(endpoint))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(None);
    }
    Deliveries::find_by_id(delivery).one(db).await
}

/// A new `webhook-id`.
fn message_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("msg_{}", hex::encode(bytes))
}

/// The endpoints and the events each wants, read once for many [`enqueue_to`]s.
pub struct Subscribers(Vec<(i32, String)>);

impl Subscribers {
    pub async fn load(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        let endpoints = Endpoints::find()
            .select_only()
            .column(E::Id)
            .column(E::Events)
            .limit(MAX_ENDPOINTS)
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?;
        Ok(Self(endpoints))
    }

    fn of(&self, event: WebhookEventType) -> impl Iterator<Item = i32> + '_ {
        self.0
            .iter()
            .filter(move |(_, events)| events.split(',').any(|e| e == event.as_str()))
            .map(|(id, _)| *id)
    }
}

/// Writes `event` about `user` for every endpoint that wants it, on `db`: call it
/// with the transaction of the change.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    event: WebhookEventType,
    user: &User,
) -> Result<(), DbErr> {
    let subscribers = Subscribers::load(db).await?;
    enqueue_to(db, &subscribers, event, user).await
}

/// [`enqueue`] with the endpoints already read.
pub async fn enqueue_to(
    db: &impl ConnectionTrait,
    subscribers: &Subscribers,
    event: WebhookEventType,
    user: &User,
) -> Result<(), DbErr> {
    let wanted: Vec<i32> = subscribers.of(event).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let now = now();
    let payload = serde_json::json!({
        "type": event.as_str(),
        "timestamp": now,
        "data": user,
    })
    .to_string();
    let id = message_id();
    let rows = wanted
        .into_iter()
        .map(|endpoint_id| webhook_delivery::ActiveModel {
            endpoint_id: Set(endpoint_id),
            message_id: Set(id.clone()),
            event_type: Set(event.as_str().to_owned()),
            payload: Set(payload.clone()),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            ..Default::default()
        });
    Deliveries::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
