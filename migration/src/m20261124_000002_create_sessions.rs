use sea_orm_migration::prelude::*;

use crate::create_table;
use crate::m20261124_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One row per login (cookie) or issued bearer token. A token is valid only while its
/// row exists and has not expired, which is what lets logout, password changes and
/// account deletion end sessions at once on every instance sharing the database.
#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    Kind,
    CreatedAt,
    ExpiresAt,
    AbsoluteExpiresAt,
    LastSeenAt,
    Ip,
    UserAgent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, Sessions::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Sessions::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Sessions::UserId).integer().not_null())
                    .col(ColumnDef::new(Sessions::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Sessions::CreatedAt).date_time().not_null())
                    .col(ColumnDef::new(Sessions::ExpiresAt).date_time().not_null())
                    .col(
                        ColumnDef::new(Sessions::AbsoluteExpiresAt)
                            .date_time()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Sessions::LastSeenAt).date_time().not_null())
                    .col(ColumnDef::new(Sessions::Ip).string_len(45).null())
                    .col(ColumnDef::new(Sessions::UserAgent).string_len(255).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("sessions_user_id_fk")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_user_id_idx")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_expires_at_idx")
                    .table(Sessions::Table)
                    .col(Sessions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}
