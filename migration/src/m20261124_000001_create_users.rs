use sea_orm_migration::prelude::*;

use crate::{Compare, create_table, text_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    FirstName,
    LastName,
    Username,
    Email,
    Mobile,
    PasswordHash,
    SecurityQuestion,
    SecurityAnswerHash,
    Role,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let text = |col: Users, len: u32, compare: Compare| {
            let mut def = ColumnDef::new(col);
            def.string_len(len).not_null();
            text_column(manager, &mut def, compare);
            def
        };
        manager
            .create_table(
                create_table(manager, Users::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Users::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(text(Users::FirstName, 50, Compare::Folded))
                    .col(text(Users::LastName, 50, Compare::Folded))
                    .col(text(Users::Username, 32, Compare::Normalised))
                    .col(text(Users::Email, 254, Compare::Normalised))
                    .col(text(Users::Mobile, 16, Compare::Normalised))
                    .col(
                        ColumnDef::new(Users::PasswordHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::SecurityQuestion)
                            .string_len(200)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Users::SecurityAnswerHash)
                            .string_len(255)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Users::Role)
                            .string_len(16)
                            .not_null()
                            .default("user"),
                    )
                    .col(ColumnDef::new(Users::CreatedAt).date_time().not_null())
                    .col(ColumnDef::new(Users::UpdatedAt).date_time().not_null())
                    .col(ColumnDef::new(Users::LastLoginAt).date_time().null())
                    .to_owned(),
            )
            .await?;

        // Unique keys enforce "one account per username/email/mobile" even under
        // concurrent signups; their names carry the column so a violation can be
        // reported against the right field.
        for (name, column) in [
            ("users_username_key", Users::Username),
            ("users_email_key", Users::Email),
            ("users_mobile_key", Users::Mobile),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Users::Table)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        // List, search and sort: every `q` prefix match, sort key and the role filter
        // has an index (`id` breaks ties and rides along in InnoDB secondary indexes).
        for (name, columns) in [
            ("users_first_name_idx", vec![Users::FirstName]),
            ("users_last_name_idx", vec![Users::LastName]),
            ("users_created_at_idx", vec![Users::CreatedAt, Users::Id]),
            (
                "users_last_login_at_idx",
                vec![Users::LastLoginAt, Users::Id],
            ),
            (
                "users_role_created_at_idx",
                vec![Users::Role, Users::CreatedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Users::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
