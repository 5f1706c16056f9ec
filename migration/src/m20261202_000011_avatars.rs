use sea_orm_migration::prelude::*;

use crate::create_table;
use crate::m20261124_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The content hash of an account's picture, on the account itself so that every
/// read of a user can name the picture's URL without touching the pictures.
#[derive(DeriveIden)]
enum Picture {
    AvatarVersion,
}

/// One row per account with a picture: both sizes as re-encoded by the server, and
/// the content hash they are served under (the same value as `users.avatar_version`).
#[derive(DeriveIden)]
enum Avatars {
    Table,
    UserId,
    Version,
    ContentType,
    Small,
    Large,
    UpdatedAt,
}

/// Length of the hex content hash naming a picture.
const VERSION_LEN: u32 = 16;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Picture::AvatarVersion)
                            .string_len(VERSION_LEN)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        use Avatars as A;
        manager
            .create_table(
                create_table(manager, A::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(A::UserId).integer().not_null().primary_key())
                    .col(
                        ColumnDef::new(A::Version)
                            .string_len(VERSION_LEN)
                            .not_null(),
                    )
                    .col(ColumnDef::new(A::ContentType).string_len(32).not_null())
                    .col(picture(manager, A::Small))
                    .col(picture(manager, A::Large))
                    .col(ColumnDef::new(A::UpdatedAt).date_time().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("avatars_user_id_fk")
                            .from(A::Table, A::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Avatars::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Picture::AvatarVersion)
                    .to_owned(),
            )
            .await
    }
}

/// A picture's bytes: MySQL's `BLOB` stops at 64 KiB, a 256 px picture may pass it.
fn picture(manager: &SchemaManager, column: Avatars) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    match manager.get_database_backend() {
        sea_orm::DbBackend::MySql => def.custom(Alias::new("MEDIUMBLOB")),
        _ => def.blob(),
    };
    def.not_null().to_owned()
}
