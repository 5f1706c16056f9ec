use sea_orm_migration::prelude::*;

use crate::create_table;
use crate::m20261124_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The credentials of integrations: a key acts for the admin who made it, within
/// its scopes. Only the SHA-256 of the secret is kept (the secret is 256 random
/// bits, so a fast hash is enough); `hint` is its first characters, to recognise it.
#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    SecretHash,
    Hint,
    /// Comma-separated scope names (`users:read,audit:read`).
    Scopes,
    OwnerId,
    OwnerName,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    LastUsedIp,
    RevokedAt,
}

/// The first answer to a request sent with an `Idempotency-Key`, per caller, route
/// and key, so that a retry gets it again instead of doing the work twice. A row
/// without a status is a request still running.
#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Principal,
    Route,
    Key,
    RequestHash,
    Status,
    Response,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ApiKeys as K;
        manager
            .create_table(
                create_table(manager, K::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(K::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(K::Name).string_len(100).not_null())
                    .col(ColumnDef::new(K::SecretHash).string_len(64).not_null())
                    .col(ColumnDef::new(K::Hint).string_len(16).not_null())
                    .col(ColumnDef::new(K::Scopes).string_len(100).not_null())
                    .col(ColumnDef::new(K::OwnerId).integer().not_null())
                    .col(ColumnDef::new(K::OwnerName).string_len(64).not_null())
                    .col(ColumnDef::new(K::CreatedAt).date_time().not_null())
                    .col(ColumnDef::new(K::ExpiresAt).date_time().null())
                    .col(ColumnDef::new(K::LastUsedAt).date_time().null())
                    .col(ColumnDef::new(K::LastUsedIp).string_len(45).null())
                    .col(ColumnDef::new(K::RevokedAt).date_time().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("api_keys_owner_id_fk")
                            .from(K::Table, K::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("api_keys_secret_hash_key")
                    .table(K::Table)
                    .col(K::SecretHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("api_keys_owner_id_idx")
                    .table(K::Table)
                    .col(K::OwnerId)
                    .to_owned(),
            )
            .await?;
        use IdempotencyKeys as I;
        manager
            .create_table(
                create_table(manager, I::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(I::Principal).string_len(32).not_null())
                    .col(ColumnDef::new(I::Route).string_len(32).not_null())
                    .col(ColumnDef::new(I::Key).string_len(255).not_null())
                    .col(ColumnDef::new(I::RequestHash).string_len(64).not_null())
                    .col(ColumnDef::new(I::Status).small_integer().null())
                    .col(ColumnDef::new(I::Response).text().null())
                    .col(ColumnDef::new(I::CreatedAt).date_time().not_null())
                    .primary_key(Index::create().col(I::Principal).col(I::Route).col(I::Key))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idempotency_keys_created_at_idx")
                    .table(I::Table)
                    .col(I::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            ApiKeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
