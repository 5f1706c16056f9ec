//! The deliverer every instance runs: claim a due delivery, send it signed, record
//! how it went, and schedule the retry.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use shared::DeliveryStatus;
use tokio::sync::Notify;

use super::{WebhookSettings, guard, signature};
use crate::clock::now;
use crate::db::entity::webhook_delivery::{self, Column as D, Entity as Deliveries};
use crate::db::entity::webhook_endpoint::Entity as Endpoints;

/// Deliveries claimed per round.
const BATCH: u64 = 10;
/// How long to wait for new work when there is none (a change here wakes it sooner).
const IDLE: Duration = Duration::from_secs(1);
/// The longest error text kept (the column's size).
const MAX_ERROR: usize = 255;

/// Sends what the outbox holds; clone it freely (the wake-up is shared).
#[derive(Clone)]
pub struct Deliverer {
    db: DatabaseConnection,
    settings: WebhookSettings,
    wake: Arc<Notify>,
}

/// How one attempt went.
enum Attempt {
    Delivered(u16),
    Failed { status: Option<u16>, error: String },
}

impl Deliverer {
    pub fn new(db: DatabaseConnection, settings: WebhookSettings) -> Self {
        Self {
            db,
            settings,
            wake: Arc::default(),
        }
    }

    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    /// Tells the deliverer that something was written (saves up to a second).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers until the task is dropped.
    pub async fn run(self) {
        loop {
            match self.round().await {
                Ok(claimed) if claimed > 0 => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "webhook deliveries could not be read"),
            }
            tokio::select! {
                () = tokio::time::sleep(IDLE) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// Claims and sends what is due; returns how many were claimed.
    async fn round(&self) -> Result<usize, DbErr> {
        let now = now();
        let due: Vec<i64> = Deliveries::find()
            .select_only()
            .column(D::Id)
            .filter(D::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(D::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(D::ClaimedUntil.is_null())
                    .add(D::ClaimedUntil.lt(now)),
            )
            .order_by_asc(D::Id)
            .limit(BATCH)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut claimed = 0;
        for id in due {
            if let Some(row) = self.claim(id).await {
                claimed += 1;
                self.deliver(row).await?;
            }
        }
        Ok(claimed)
    }

    /// Takes delivery `id` for this instance, if no other has it.
    async fn claim(&self, id: i64) -> Option<webhook_delivery::Model> {
        let now = now();
        let lease = self.settings.timeout + Duration::from_secs(20);
        let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
        let taken = Deliveries::update_many()
            .col_expr(D::ClaimedUntil, Expr::value(Some(until)))
            .filter(D::Id.eq(id))
            .filter(D::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(
                Condition::any()
                    .add(D::ClaimedUntil.is_null())
                    .add(D::ClaimedUntil.lt(now)),
            )
            .exec(&self.db)
            .await;
        match taken {
            Ok(done) if done.rows_affected == 1 => {}
            // Another instance won it (or the claim lost a certification conflict).
            Ok(_) => return None,
            Err(err) => {
                tracing::debug!(error = %err, delivery = id, "webhook claim lost");
                return None;
            }
        }
        Deliveries::find_by_id(id)
            .one(&self.db)
            .await
            .ok()
            .flatten()
    }

    async fn deliver(&self, row: webhook_delivery::Model) -> Result<(), DbErr> {
        let Some(endpoint) = Endpoints::find_by_id(row.endpoint_id).one(&self.db).await? else {
            Deliveries::delete_by_id(row.id).exec(&self.db).await?;
            return Ok(());
        };
        let attempt = self.send(&endpoint.url, &endpoint.secret, &row).await;
        self.record(&row, attempt).await
    }

    async fn send(&self, url: &str, secret: &str, row: &webhook_delivery::Model) -> Attempt {
        let failed = |error: String| Attempt::Failed {
            status: None,
            error,
        };
        // Resolved again and pinned: a name that now points inside is refused.
        let (url, addrs) = match guard::resolve(url, self.settings.allow_private).await {
            Ok(found) => found,
            Err(why) => return failed(format!("refused: the address {why}")),
        };
        let host = url.host_str().unwrap_or_default().to_owned();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.settings.timeout)
            .resolve_to_addrs(&host, &addrs)
            .build();
        let client = match client {
            Ok(client) => client,
            Err(err) => return failed(format!("could not prepare the request: {err}")),
        };
        let timestamp = Utc::now().timestamp();
        let signed = signature::sign(secret, &row.message_id, timestamp, &row.payload);
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header("user-agent", "user-management-webhooks")
            .header("webhook-id", &row.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signed)
            .body(row.payload.clone())
            .send()
            .await;
        match sent {
            Ok(res) if res.status().is_success() => Attempt::Delivered(res.status().as_u16()),
            Ok(res) => Attempt::Failed {
                status: Some(res.status().as_u16()),
                error: format!("the receiver answered {}", res.status()),
            },
            Err(err) if err.is_timeout() => failed("the receiver did not answer in time".into()),
            Err(_) => failed("the receiver could not be reached".into()),
        }
    }

    async fn record(&self, row: &webhook_delivery::Model, attempt: Attempt) -> Result<(), DbErr> {
        let attempts = row.attempts + 1;
        let update = Deliveries::update_many()
            .col_expr(D::Attempts, Expr::value(attempts))
            .col_expr(
                D::ClaimedUntil,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .filter(D::Id.eq(row.id));
        let update = match attempt {
            Attempt::Delivered(status) => {
                tracing::info!(delivery = row.id, event = %row.event_type, "webhook delivered");
                update
                    .col_expr(D::Status, Expr::value(DeliveryStatus::Delivered.as_str()))
                    .col_expr(D::LastStatus, Expr::value(Some(i32::from(status))))
                    .col_expr(D::LastError, Expr::value(Option::<String>::None))
                    .col_expr(D::DeliveredAt, Expr::value(Some(now())))
            }
            Attempt::Failed { status, error } => {
                let wait = usize::try_from(row.attempts)
                    .ok()
                    .and_then(|n| self.settings.backoff.get(n));
                let (state, next) = match wait {
                    Some(wait) => (
                        DeliveryStatus::Pending,
                        now() + chrono::Duration::from_std(*wait).unwrap_or_default(),
                    ),
                    None => (DeliveryStatus::Failed, now()),
                };
                tracing::warn!(delivery = row.id, attempts, %error, status = state.as_str(), "webhook not delivered");
                let error: String = error.chars().take(MAX_ERROR).collect();
                update
                    .col_expr(D::Status, Expr::value(state.as_str()))
                    .col_expr(D::NextAttemptAt, Expr::value(next))
                    .col_expr(D::LastStatus, Expr::value(status.map(i32::from)))
                    .col_expr(D::LastError, Expr::value(Some(error)))
            }
        };
        update.exec(&self.db).await?;
        Ok(())
    }
}
