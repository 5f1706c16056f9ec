use sea_orm_migration::prelude::*;

use crate::create_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Where admins want to hear about changes: a URL, the event types, and the secret
/// deliveries are signed with (Standard Webhooks: HMAC-SHA256).
#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Description,
    /// Comma-separated event types (`user.created,user.deleted`).
    Events,
    Secret,
    CreatedAt,
}

/// The outbox: one row per event and endpoint, written in the transaction of the
/// change itself, so a committed change always has its deliveries and a rolled-back
/// one never does. An instance claims a due row (`claimed_until`) before sending.
#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    /// The event's id, the same for every endpoint (`webhook-id`: `msg_...`).
    MessageId,
    EventType,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastStatus,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WebhookEndpoints as E;
        manager
            .create_table(
                create_table(manager, E::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(E::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(E::Url).string_len(2048).not_null())
                    .col(ColumnDef::new(E::Description).string_len(200).not_null())
                    .col(ColumnDef::new(E::Events).string_len(500).not_null())
                    .col(ColumnDef::new(E::Secret).string_len(64).not_null())
                    .col(ColumnDef::new(E::CreatedAt).date_time().not_null())
                    .to_owned(),
            )
            .await?;
        use WebhookDeliveries as D;
        manager
            .create_table(
                create_table(manager, D::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(D::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(D::EndpointId).integer().not_null())
                    .col(ColumnDef::new(D::MessageId).string_len(40).not_null())
                    .col(ColumnDef::new(D::EventType).string_len(32).not_null())
                    .col(ColumnDef::new(D::Payload).text().not_null())
                    .col(ColumnDef::new(D::Status).string_len(16).not_null())
                    .col(ColumnDef::new(D::Attempts).integer().not_null())
                    .col(ColumnDef::new(D::NextAttemptAt).date_time().not_null())
                    .col(ColumnDef::new(D::ClaimedUntil).date_time().null())
                    .col(ColumnDef::new(D::LastStatus).integer().null())
                    .col(ColumnDef::new(D::LastError).string_len(255).null())
                    .col(ColumnDef::new(D::CreatedAt).date_time().not_null())
                    .col(ColumnDef::new(D::DeliveredAt).date_time().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("webhook_deliveries_endpoint_id_fk")
                            .from(D::Table, D::EndpointId)
                            .to(E::Table, E::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The deliverer's question: what is due now.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("webhook_deliveries_due_idx")
                    .table(D::Table)
                    .col(D::Status)
                    .col(D::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // An endpoint's recent deliveries, newest first.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("webhook_deliveries_endpoint_idx")
                    .table(D::Table)
                    .col(D::EndpointId)
                    .col(D::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
