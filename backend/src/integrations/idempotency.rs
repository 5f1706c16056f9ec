//! `Idempotency-Key`: the first answer to a request, kept for 24 hours per caller,
//! operation and key, so that a client retrying after a lost answer gets that answer
//! again instead of a second account. The same key with another body is refused.
//!
//! A row is claimed before the work starts (the primary key makes the claim atomic
//! across instances); a concurrent retry of a request still running is told so. The
//! answer is stored sealed (ChaCha20-Poly1305 under a key derived from the app's
//! secret): it may carry a secret shown once (a new API key) or personal data.
//! A claim left by a crash is taken over after [`STALE_CLAIM`].

use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    Set, SqlErr,
};

use crate::auth::sealing::Sealer;
use crate::clock::now;
use crate::db::entity::idempotency_key::{self, Column, Entity as IdempotencyKeys};

/// How long an answer is kept.
pub const RETENTION: Duration = Duration::hours(24);
/// A claim with no answer after this long was left by a request that died.
pub const STALE_CLAIM: Duration = Duration::seconds(60);
/// Longest accepted key (the column's size).
pub const MAX_KEY: usize = 255;

/// Which request a key was used for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// `user:<id>` or `key:<id>`.
    pub principal: String,
    /// The operation (`create_user`, ...).
    pub route: &'static str,
    pub key: String,
    /// A keyed hash of the request body, from [`Idempotency::fingerprint`].
    pub request_hash: String,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// First use of the key: do the work, then [`Idempotency::finish`].
    New,
    /// Done before: this was the answer.
    Replay { status: u16, body: String },
    /// The key was used with another body.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// The store of answers, with the sealing key.
#[derive(Clone)]
pub struct Idempotency {
    sealer: Sealer,
    fingerprint_key: Vec<u8>,
}

impl Idempotency {
    /// Under keys derived from the app's secret, the same on every instance sharing it.
    pub fn new(sealing_key: [u8; 32], fingerprint_key: Vec<u8>) -> Self {
        Self {
            sealer: Sealer::new(sealing_key),
            fingerprint_key,
        }
    }

    /// A keyed hash of a request body: bodies may hold passwords, which a plain hash
    /// in the database would expose to guessing.
    pub fn fingerprint(&self, body: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.fingerprint_key)
            .expect("HMAC takes any key");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Claims `claim`'s key, or says what happened to it before.
    pub async fn begin(&self, db: &impl ConnectionTrait, claim: &Claim) -> Result<Begun, DbErr> {
        let now = now();
        // An answer past its retention, or a claim left by a crash, is gone.
        self.delete_claim(claim)
            .filter(
                Condition::any()
                    .add(Column::CreatedAt.lt(now - RETENTION))
                    .add(
                        Condition::all()
                            .add(Column::Status.is_null())
                            .add(Column::CreatedAt.lt(now - STALE_CLAIM)),
                    ),
            )
            .exec(db)
            .await?;
        let row = idempotency_key::ActiveModel {
            principal: Set(claim.principal.clone()),
            route: Set(claim.route.to_owned()),
            key: Set(claim.key.clone()),
            request_hash: Set(claim.request_hash.clone()),
            status: Set(None),
            response: Set(None),
            created_at: Set(now),
        };
        match row.insert(db).await {
            Ok(_) => return Ok(Begun::New),
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(err) => return Err(err),
        }
        let Some(found) = IdempotencyKeys::find_by_id((
            claim.principal.clone(),
            claim.route.to_owned(),
            claim.key.clone(),
        ))
        .one(db)
        .await?
        else {
            // Removed between the insert and this read: the other request gave up.
            return Ok(Begun::InProgress);
        };
        if found.request_hash != claim.request_hash {
            return Ok(Begun::Mismatch);
        }
        match (found.status, found.response) {
            (Some(status), Some(sealed)) => match self.sealer.open(&sealed) {
                Some(body) => Ok(Begun::Replay {
                    status: u16::try_from(status).unwrap_or(500),
                    body,
                }),
                // Sealed under another secret (JWT_SECRET changed): not replayable.
                None => Ok(Begun::Mismatch),
            },
            _ => Ok(Begun::InProgress),
        }
    }

    /// Stores the answer of a claimed request.
    pub async fn finish(
        &self,
        db: &impl ConnectionTrait,
        claim: &Claim,
        status: u16,
        body: &str,
    ) -> Result<(), DbErr> {
        IdempotencyKeys::update_many()
            .col_expr(
                Column::Status,
                Expr::value(i16::try_from(status).unwrap_or(500)),
            )
            .col_expr(Column::Response, Expr::value(self.sealer.seal(body)))
            .filter(Column::Principal.eq(&claim.principal))
            .filter(Column::Route.eq(claim.route))
            .filter(Column::Key.eq(&claim.key))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Gives up a claim (the request failed on our side): a retry may run again.
    pub async fn abandon(&self, db: &impl ConnectionTrait, claim: &Claim) -> Result<(), DbErr> {
        self.delete_claim(claim).exec(db).await?;
        Ok(())
    }

    /// Deletes answers past their retention (housekeeping).
    pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
        let purged = IdempotencyKeys::delete_many()
            .filter(Column::CreatedAt.lt(now() - RETENTION))
            .exec(db)
            .await?;
        Ok(purged.rows_affected)
    }

    /// The statement removing `claim`'s row (narrowed further by the callers' filters).
    fn delete_claim(&self, claim: &Claim) -> sea_orm::DeleteMany<IdempotencyKeys> {
        IdempotencyKeys::delete_many()
            .filter(Column::Principal.eq(&claim.principal))
            .filter(Column::Route.eq(claim.route))
            .filter(Column::Key.eq(&claim.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(key: u8) -> Idempotency {
        Idempotency::new([key; 32], vec![key])
    }

    #[test]
    fn fingerprints_are_keyed() {
        assert_eq!(store(1).fingerprint(b"{}"), store(1).fingerprint(b"{}"));
        assert_ne!(store(1).fingerprint(b"{}"), store(2).fingerprint(b"{}"));
        assert_ne!(store(1).fingerprint(b"{}"), store(1).fingerprint(b"[]"));
    }
}
