//! API keys: long random secrets an admin hands to an integration. A key acts for
//! that admin (never beyond the admin's own rights, which are checked as for any
//! request) and only on the routes of its scopes (`http::scopes`). The secret is
//! `umk_` and 256 random bits; only its SHA-256 is stored, so a key is checked with
//! one indexed lookup and no password hashing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use shared::{API_KEY_PREFIX, ApiKey, ApiScope, NewApiKey};

use super::codes::token_hash;
use crate::clock::now;
use crate::db::entity::api_key::{self, Column, Entity as ApiKeys};
use crate::db::entity::user;

/// Characters of the secret kept as its hint (the prefix and four more).
const HINT_LEN: usize = API_KEY_PREFIX.len() + 4;

/// How often the last use of a key is written (and always when the address changes).
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// The most keys listed: far more than any deployment keeps.
const LIST_LIMIT: u64 = 500;

/// A new secret: the prefix and 43 characters of base64url.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether a bearer credential is an API key rather than a session token.
pub fn is_api_key(credential: &str) -> bool {
    credential.starts_with(API_KEY_PREFIX)
}

/// The scopes stored in a key's row.
pub fn scopes(key: &api_key::Model) -> Vec<ApiScope> {
    key.scopes.split(',').filter_map(ApiScope::parse).collect()
}

pub fn to_api(key: api_key::Model) -> ApiKey {
    ApiKey {
        scopes: scopes(&key),
        id: key.id,
        name: key.name,
        hint: format!("{}…", key.hint),
        owner: key.owner_name,
        created_at: key.created_at,
        expires_at: key.expires_at,
        last_used_at: key.last_used_at,
        last_used_ip: key.last_used_ip,
        revoked_at: key.revoked_at,
    }
}

/// Creates a key acting for `owner`; returns it with its secret (shown once).
pub async fn create(
    db: &impl ConnectionTrait,
    owner: &user::Model,
    new: NewApiKey,
) -> Result<(api_key::Model, String), DbErr> {
    let secret = new_secret();
    let scopes: Vec<&str> = new.scopes.iter().map(|s| s.as_str()).collect();
    let key = api_key::ActiveModel {
        name: Set(new.name),
        secret_hash: Set(token_hash(&secret)),
        hint: Set(secret[..HINT_LEN].to_owned()),
        scopes: Set(scopes.join(",")),
        owner_id: Set(owner.id),
        owner_name: Set(owner.username.clone()),
        created_at: Set(now()),
        expires_at: Set(new.expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((key, secret))
}

/// Every key, newest first, revoked ones included (they show when they stopped).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<api_key::Model>, DbErr> {
    ApiKeys::find()
        .order_by_desc(Column::Id)
        .limit(LIST_LIMIT)
        .all(db)
        .await
}

/// Revokes key `id`; returns it as it is now, or `None` if there is no such key.
/// Revoking twice keeps the first time.
pub async fn revoke(db: &impl ConnectionTrait, id: i32) -> Result<Option<api_key::Model>, DbErr> {
    ApiKeys::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    ApiKeys::find_by_id(id).one(db).await
}

/// The live key whose secret is `secret`, and the enabled account it acts for.
pub async fn find_live(
    db: &impl ConnectionTrait,
    secret: &str,
) -> Result<Option<(api_key::Model, user::Model)>, DbErr> {
    let now: DateTime<Utc> = Utc::now();
    let found = ApiKeys::find()
        .filter(Column::SecretHash.eq(token_hash(secret)))
        .filter(Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.gt(now)),
        )
        .find_also_related(user::Entity)
        .filter(user::Column::DisabledAt.is_null())
        .one(db)
        .await?;
    Ok(found.and_then(|(key, owner)| owner.map(|owner| (key, owner))))
}

/// Records a use of `key` from `ip`: at most once a minute from the same address.
pub async fn touch(
    db: &impl ConnectionTrait,
    key: &api_key::Model,
    ip: Option<&str>,
) -> Result<(), DbErr> {
    let now = now();
    let recent = key
        .last_used_at
        .is_some_and(|at| now - at < TOUCH_EVERY && key.last_used_ip.as_deref() == ip);
    if recent {
        return Ok(());
    }
    ApiKeys::update_many()
        .col_expr(Column::LastUsedAt, Expr::value(now))
        .col_expr(Column::LastUsedIp, Expr::value(ip.map(str::to_owned)))
        .filter(Column::Id.eq(key.id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_carry_the_prefix_and_256_bits() {
        let secret = new_secret();
        assert!(is_api_key(&secret));
        assert_eq!(secret.len(), API_KEY_PREFIX.len() + 43);
        assert_ne!(secret, new_secret());
        assert!(!is_api_key("eyJhbGciOi"));
    }
}
