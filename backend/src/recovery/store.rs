//! The recovery flow's statements. Each step is one conditional UPDATE whose filter
//! states what must hold (the step, an unexpired code or token, attempts left), so a
//! step either happens exactly once or not at all.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    Set,
};
use shared::Identifier;

use crate::clock::now;
use crate::db::entity::password_recovery::{self, Column, Entity as Recoveries, Step};
use crate::db::entity::user::{self, Entity as Users};

/// Wrong codes and wrong answers together, per code sent.
pub const ATTEMPTS: i32 = 5;
/// Codes mailed per account per hour; more requests get the same answer but no mail.
pub const MAILS_PER_HOUR: i32 = 5;

/// The enabled account `identifier` names, if its address is verified: recovery
/// codes go only to a proved address, and a disabled account cannot recover its
/// password either.
pub(super) async fn find_account(
    db: &DatabaseConnection,
    identifier: &Identifier,
) -> Result<Option<user::Model>, DbErr> {
    let filter = match identifier {
        Identifier::Email(email) => user::Column::Email.eq(email.as_str()),
        Identifier::Mobile(mobile) => user::Column::Mobile.eq(mobile.as_str()),
    };
    Users::find()
        .filter(filter)
        .filter(user::Column::DisabledAt.is_null())
        .filter(user::Column::EmailVerifiedAt.is_not_null())
        .one(db)
        .await
}

/// The flow whose current token hashes to `token_hash`, with its (enabled) account.
pub(super) async fn find_flow(
    db: &DatabaseConnection,
    token_hash: &str,
) -> Result<Option<(password_recovery::Model, user::Model)>, DbErr> {
    let found = Recoveries::find()
        .filter(Column::TokenHash.eq(token_hash))
        .find_also_related(Users)
        .filter(user::Column::DisabledAt.is_null())
        .one(db)
        .await?;
    Ok(found.and_then(|(flow, user)| user.map(|user| (flow, user))))
}

/// Starts a flow with a fresh code (replacing any earlier one) unless the account's
/// hourly mail budget is spent; `false` then.
pub(super) async fn issue_code(
    db: &DatabaseConnection,
    user_id: i32,
    code_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let now = now();
    Recoveries::insert(password_recovery::ActiveModel {
        user_id: Set(user_id),
        step: Set(Step::Done),
        code_hash: Set(None),
        code_expires_at: Set(None),
        attempts_left: Set(0),
        token_hash: Set(None),
        token_expires_at: Set(None),
        window_started_at: Set(now),
        mails_in_window: Set(0),
        updated_at: Set(now),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;

    let hour_ago = now - chrono::Duration::hours(1);
    let new_window = Expr::col(Column::WindowStartedAt).lte(hour_ago);
    // `mails_in_window` is assigned first: MySQL evaluates SET left to right, and
    // it must see the old window start, as SQLite does.
    let updated = Recoveries::update_many()
        .col_expr(
            Column::MailsInWindow,
            Expr::case(new_window.clone(), 1)
                .finally(Expr::col(Column::MailsInWindow).add(1))
                .into(),
        )
        .col_expr(
            Column::WindowStartedAt,
            Expr::case(new_window.clone(), now)
                .finally(Expr::col(Column::WindowStartedAt))
                .into(),
        )
        .col_expr(Column::Step, Expr::value(Step::Code))
        .col_expr(Column::CodeHash, Expr::value(code_hash))
        .col_expr(Column::CodeExpiresAt, Expr::value(expires_at))
        .col_expr(Column::AttemptsLeft, Expr::value(ATTEMPTS))
        .col_expr(Column::TokenHash, Expr::value(Option::<String>::None))
        .col_expr(
            Column::TokenExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::UserId.eq(user_id))
        .filter(
            Condition::any()
                .add(new_window)
                .add(Column::MailsInWindow.lt(MAILS_PER_HOUR)),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Spends an attempt on `code` and, if it is the live code, moves the flow to the
/// question with `token_hash` as its token. `false` for a wrong, expired or used
/// code, or an exhausted budget.
pub(super) async fn pass_code(
    db: &DatabaseConnection,
    user_id: i32,
    code_hash: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let live_code = || {
        Condition::all()
            .add(Column::UserId.eq(user_id))
            .add(Column::Step.eq(Step::Code))
            .add(Column::CodeExpiresAt.gt(Utc::now()))
    };
    if !spend_attempt(db, live_code()).await? {
        return Ok(false);
    }
    let advanced = Recoveries::update_many()
        .col_expr(Column::Step, Expr::value(Step::Question))
        .col_expr(Column::CodeHash, Expr::value(Option::<String>::None))
        // The right code gives its attempt back.
        .col_expr(Column::AttemptsLeft, Expr::col(Column::AttemptsLeft).add(1))
        .col_expr(Column::TokenHash, Expr::value(token_hash))
        .col_expr(Column::TokenExpiresAt, Expr::value(expires_at))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(live_code().add(Column::CodeHash.eq(code_hash)))
        .exec(db)
        .await?;
    Ok(advanced.rows_affected == 1)
}

/// The flow at the question step with this token, unexpired.
fn live_question(token_hash: &str) -> Condition {
    Condition::all()
        .add(Column::TokenHash.eq(token_hash))
        .add(Column::Step.eq(Step::Question))
        .add(Column::TokenExpiresAt.gt(Utc::now()))
}

/// Spends an attempt of the question step before the answer is checked.
pub(super) async fn spend_answer_attempt(
    db: &DatabaseConnection,
    token_hash: &str,
) -> Result<bool, DbErr> {
    spend_attempt(db, live_question(token_hash)).await
}

/// The right answer: the flow moves to the reset step with a new token.
pub(super) async fn pass_answer(
    db: &DatabaseConnection,
    token_hash: &str,
    new_token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let advanced = Recoveries::update_many()
        .col_expr(Column::Step, Expr::value(Step::Reset))
        .col_expr(Column::AttemptsLeft, Expr::col(Column::AttemptsLeft).add(1))
        .col_expr(Column::TokenHash, Expr::value(new_token_hash))
        .col_expr(Column::TokenExpiresAt, Expr::value(expires_at))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(live_question(token_hash))
        .exec(db)
        .await?;
    Ok(advanced.rows_affected == 1)
}

/// Whether `flow` is at the reset step with an unexpired token.
pub(super) fn is_live_reset(flow: &password_recovery::Model) -> bool {
    flow.step == Step::Reset && flow.token_expires_at.is_some_and(|at| at > Utc::now())
}

/// Ends the flow of `user_id` whose reset token hashes to `token_hash`; `false` when
/// that token is not (or no longer) live.
pub(super) async fn spend_reset(
    db: &DatabaseConnection,
    user_id: i32,
    token_hash: &str,
) -> Result<bool, DbErr> {
    let spent = Recoveries::update_many()
        .col_expr(Column::Step, Expr::value(Step::Done))
        .col_expr(Column::TokenHash, Expr::value(Option::<String>::None))
        .col_expr(
            Column::TokenExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::CodeHash, Expr::value(Option::<String>::None))
        .col_expr(Column::AttemptsLeft, Expr::value(0))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::TokenHash.eq(token_hash))
        .filter(Column::Step.eq(Step::Reset))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::TokenExpiresAt.gt(Utc::now()))
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

/// Ends whatever recovery of `user_id` is in progress (its password, address or
/// answer changed: a code or token issued before must not outlive that). The hourly
/// mail count stays.
pub async fn cancel(db: &impl ConnectionTrait, user_id: i32) -> Result<(), DbErr> {
    Recoveries::update_many()
        .col_expr(Column::Step, Expr::value(Step::Done))
        .col_expr(Column::CodeHash, Expr::value(Option::<String>::None))
        .col_expr(Column::TokenHash, Expr::value(Option::<String>::None))
        .col_expr(
            Column::TokenExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::AttemptsLeft, Expr::value(0))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Step.ne(Step::Done))
        .exec(db)
        .await?;
    Ok(())
}

/// Reserves one attempt of the flow matching `flow`; `false` when none is left (or
/// the flow is gone, expired or at another step).
async fn spend_attempt(db: &DatabaseConnection, flow: Condition) -> Result<bool, DbErr> {
    let spent = Recoveries::update_many()
        .col_expr(Column::AttemptsLeft, Expr::col(Column::AttemptsLeft).sub(1))
        .filter(flow.add(Column::AttemptsLeft.gt(0)))
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}
