use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, FromQueryResult};
use shared::search::{MAX_TERM_CHARS, Searchable, terms};

use crate::m20261124_000001_create_users::Users;
use crate::{Compare, create_table, text_column};

/// `VARCHAR` length of a term (in characters on both databases).
const TERM_LEN: u32 = 64;
const _: () = assert!(TERM_LEN as usize == MAX_TERM_CHARS);

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The words an account is found by (`shared::search`): one row per word start of
/// each searchable field, so a search is a prefix range of the primary key.
#[derive(DeriveIden)]
pub(crate) enum UserSearchTerms {
    Table,
    Term,
    Kind,
    UserId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use UserSearchTerms as T;
        let mut term = ColumnDef::new(T::Term);
        term.string_len(TERM_LEN).not_null();
        text_column(manager, &mut term, Compare::Normalised);
        manager
            .create_table(
                create_table(manager, T::Table)
                    .if_not_exists()
                    .col(term)
                    .col(ColumnDef::new(T::Kind).small_integer().not_null())
                    .col(ColumnDef::new(T::UserId).integer().not_null())
                    .primary_key(Index::create().col(T::Term).col(T::Kind).col(T::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("user_search_terms_user_id_fk")
                            .from(T::Table, T::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("user_search_terms_user_id_idx")
                    .table(T::Table)
                    .col(T::UserId)
                    .to_owned(),
            )
            .await?;
        rebuild_search_terms(manager.get_connection()).await?;
        // The role filter with every sort, so an admins-only list is a range too.
        for (name, columns) in role_indexes() {
            let mut index = Index::create();
            index.name(name).table(Users::Table).col(Users::Role);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in role_indexes() {
            manager
                .drop_index(Index::drop().name(name).table(Users::Table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(UserSearchTerms::Table).to_owned())
            .await
    }
}

fn role_indexes() -> [(&'static str, Vec<Users>); 3] {
    [
        ("users_role_username_idx", vec![Users::Username]),
        ("users_role_email_idx", vec![Users::Email]),
        (
            "users_role_last_login_at_idx",
            vec![Users::LastLoginAt, Users::Id],
        ),
    ]
}

#[derive(FromQueryResult)]
struct Row {
    id: i32,
    first_name: String,
    last_name: String,
    username: String,
    email: String,
    mobile: String,
}

/// Accounts read per batch while (re)building the terms.
const BATCH: u64 = 2_000;

/// Fills `user_search_terms` from the accounts (after a bulk load that bypassed the
/// application, say), a batch of accounts at a time in id order, replacing what each
/// batch had. Returns the number of accounts indexed.
pub async fn rebuild_search_terms(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use UserSearchTerms as T;
    let mut after = 0;
    let mut indexed = 0;
    loop {
        let select = Query::select()
            .columns([
                Users::Id,
                Users::FirstName,
                Users::LastName,
                Users::Username,
                Users::Email,
                Users::Mobile,
            ])
            .from(Users::Table)
            .and_where(Expr::col(Users::Id).gt(after))
            .order_by(Users::Id, Order::Asc)
            .limit(BATCH)
            .to_owned();
        let rows = Row::find_by_statement(db.get_database_backend().build(&select))
            .all(db)
            .await?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(indexed);
        };
        let forget = Query::delete()
            .from_table(T::Table)
            .and_where(Expr::col(T::UserId).between(first.id, last.id))
            .to_owned();
        db.execute(&forget).await?;
        let all: Vec<_> = rows
            .iter()
            .flat_map(|row| {
                let fields = Searchable {
                    first_name: &row.first_name,
                    last_name: &row.last_name,
                    username: &row.username,
                    email: &row.email,
                    mobile: &row.mobile,
                };
                terms(fields).into_iter().map(|term| (term, row.id))
            })
            .collect();
        // SQLite takes at most 32,766 parameters a statement.
        for chunk in all.chunks(5_000) {
            let mut insert = Query::insert();
            insert
                .into_table(T::Table)
                .columns([T::Term, T::Kind, T::UserId]);
            for ((kind, term), id) in chunk {
                insert.values_panic([term.clone().into(), kind.code().into(), (*id).into()]);
            }
            db.execute(&insert).await?;
        }
        after = last.id;
        indexed += rows.len() as u64;
    }
}
