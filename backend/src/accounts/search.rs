//! Keeping an account's search terms (`shared::search`) in step with its fields:
//! written in the same transaction as the change, so a search never finds an account
//! by a value it no longer has.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use shared::search::{Searchable, terms};

use crate::db::entity::user;
use crate::db::entity::user_search_term::{self, Column, Entity as Terms};

/// Replaces the terms of each of `users` with those of its current fields.
pub async fn reindex(db: &impl ConnectionTrait, users: &[user::Model]) -> Result<(), DbErr> {
    if users.is_empty() {
        return Ok(());
    }
    Terms::delete_many()
        .filter(Column::UserId.is_in(users.iter().map(|u| u.id)))
        .exec(db)
        .await?;
    let rows: Vec<_> = users
        .iter()
        .flat_map(|user| {
            terms(searchable(user))
                .into_iter()
                .map(|(kind, term)| user_search_term::ActiveModel {
                    term: Set(term),
                    kind: Set(kind.code()),
                    user_id: Set(user.id),
                })
        })
        .collect();
    for chunk in rows.chunks(1_000) {
        Terms::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Whether a change from `before` to `after` changes what the account is found by.
pub fn changes_terms(before: &user::Model, after: &user::Model) -> bool {
    terms(searchable(before)) != terms(searchable(after))
}

fn searchable(user: &user::Model) -> Searchable<'_> {
    Searchable {
        first_name: &user.first_name,
        last_name: &user.last_name,
        username: &user.username,
        email: &user.email,
        mobile: &user.mobile,
    }
}
