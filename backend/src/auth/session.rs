//! Server-side sessions: one row per login or issued token. A token is honoured only
//! while its row exists and is unexpired, on every instance sharing the database.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use sha2::{Digest, Sha256};
use shared::{SessionInfo, SessionKind};

use crate::audit::ClientInfo;
use crate::clock::now;
pub use crate::db::entity::session::Model as Session;
use crate::db::entity::session::{self, Column, Entity as Sessions};
use crate::db::entity::user;

/// How long sessions last, and how many one account keeps.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub ttl: Duration,
    pub absolute: Duration,
    pub max_per_account: u32,
}

/// Last-seen times are written at most this often per session, so an active user
/// does not cost a write per request.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Opens a session of `kind` for `user_id`, from the known device `device_hash` if
/// any. The caller then calls [`end_beyond_cap`]: after its commit, when it writes in
/// a transaction (inside it, the sessions that parallel transactions are adding would
/// not be seen, and together they would exceed the cap).
pub async fn open(
    db: &impl ConnectionTrait,
    user_id: i32,
    kind: SessionKind,
    lifetimes: Lifetimes,
    client: &ClientInfo,
    device_hash: Option<String>,
) -> Result<session::Model, DbErr> {
    let now = now();
    let mut id = [0u8; 32];
    rand::rng().fill_bytes(&mut id);
    let absolute = now + lifetimes.absolute;
    let created = Session {
        id: hex::encode(id),
        user_id,
        kind,
        created_at: now,
        expires_at: (now + lifetimes.ttl).min(absolute),
        absolute_expires_at: absolute,
        last_seen_at: now,
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        device_hash,
    };
    // Not read back (MySQL has no RETURNING): a parallel login of the same account
    // may already have ended it as the least recently used by then.
    Sessions::insert(session::ActiveModel::from(created.clone()))
        .exec_without_returning(db)
        .await?;
    Ok(created)
}

/// Ends the least recently used sessions of `user_id` beyond `keep`, never `opened`,
/// the one just opened (a script minting tokens in a loop must not grow the table
/// without bound, nor end the browser session someone is using).
pub async fn end_beyond_cap(
    db: &impl ConnectionTrait,
    user_id: i32,
    opened: &str,
    keep: u32,
) -> Result<(), DbErr> {
    let beyond: Vec<String> = Sessions::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Id.ne(opened))
        .order_by_desc(Column::LastSeenAt)
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .offset(u64::from(keep.saturating_sub(1)))
        .limit(1000)
        .into_tuple()
        .all(db)
        .await?;
    if !beyond.is_empty() {
        tracing::info!(
            user_id,
            evicted = beyond.len(),
            "least recently used sessions ended: too many"
        );
        Sessions::delete_many()
            .filter(Column::Id.is_in(beyond))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The live session `id` and its account, in one query.
pub async fn find_live(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<(session::Model, user::Model)>, DbErr> {
    let now = Utc::now();
    let found = Sessions::find_by_id(id.to_owned())
        .filter(Column::ExpiresAt.gt(now))
        .find_also_related(user::Entity)
        // Disabling ends the sessions too; this holds even if that write was lost.
        .filter(user::Column::DisabledAt.is_null())
        .one(db)
        .await?;
    Ok(found.and_then(|(session, user)| user.map(|user| (session, user))))
}

/// Moves the expiry of a cookie session forward (never past its absolute end).
/// Returns the new expiry, or `None` when there is nothing to gain.
pub async fn extend(
    db: &impl ConnectionTrait,
    session: &session::Model,
    ttl: Duration,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let now = now();
    let expires_at = (now + ttl).min(session.absolute_expires_at);
    if expires_at <= session.expires_at {
        return Ok(None);
    }
    Sessions::update_many()
        .col_expr(Column::ExpiresAt, Expr::value(expires_at))
        .col_expr(Column::LastSeenAt, Expr::value(now))
        .filter(Column::Id.eq(&session.id))
        .exec(db)
        .await?;
    Ok(Some(expires_at))
}

pub async fn touch(db: &impl ConnectionTrait, session: &session::Model) -> Result<(), DbErr> {
    let now = now();
    if now - session.last_seen_at < TOUCH_EVERY {
        return Ok(());
    }
    Sessions::update_many()
        .col_expr(Column::LastSeenAt, Expr::value(now))
        .filter(Column::Id.eq(&session.id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn revoke(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    Sessions::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(())
}

/// Ends every session of an account (password change, demotion, disabling,
/// deletion); returns how many ended.
pub async fn revoke_all(db: &impl ConnectionTrait, user_id: i32) -> Result<u64, DbErr> {
    let result = Sessions::delete_many()
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// One page of the live sessions of `user_id`, newest first, and how many there are.
pub async fn list_live(
    db: &impl ConnectionTrait,
    user_id: i32,
    page: u64,
    per_page: u64,
) -> Result<(Vec<session::Model>, u64), DbErr> {
    let live = Sessions::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::ExpiresAt.gt(Utc::now()));
    let items = live
        .clone()
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((items, live.count(db).await?))
}

/// The live session of `user_id` whose public handle is `handle`. An account has at
/// most `SESSIONS_PER_ACCOUNT` sessions (a setting, 1,000 at most), so they are
/// looked through whole.
pub async fn find_by_handle(
    db: &impl ConnectionTrait,
    user_id: i32,
    handle_wanted: &str,
) -> Result<Option<session::Model>, DbErr> {
    let live = Sessions::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::ExpiresAt.gt(Utc::now()))
        .all(db)
        .await?;
    Ok(live.into_iter().find(|s| handle(&s.id) == handle_wanted))
}

/// The public name of a session: derived from its id, so the list never shows the
/// value a token carries.
pub fn handle(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    hex::encode(&digest[..16])
}

pub fn to_api(model: session::Model, current_id: &str) -> SessionInfo {
    SessionInfo {
        id: handle(&model.id),
        current: model.id == current_id,
        kind: model.kind,
        created_at: model.created_at,
        last_seen_at: model.last_seen_at,
        expires_at: model.expires_at,
        ip: model.ip,
        user_agent: model.user_agent,
    }
}

/// Ends every session of `user_id` but `keep`; returns how many ended.
pub async fn revoke_all_except(
    db: &impl ConnectionTrait,
    user_id: i32,
    keep: &str,
) -> Result<u64, DbErr> {
    let result = Sessions::delete_many()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Id.ne(keep))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes expired rows; run periodically so the table stays small.
pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let result = Sessions::delete_many()
        .filter(Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
