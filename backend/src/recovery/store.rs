//! The recovery flow's statements. Each step is a conditional UPDATE (or DELETE)
//! whose filter states what must hold (the step, an unexpired code or token,
//! attempts left), so a step either happens exactly once or not at all; passing a
//! code, which touches a code and the flow, runs in one transaction.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use shared::Identifier;

use crate::clock::now;
use crate::db::entity::password_recovery::{self, Column, Entity as Recoveries, Step};
use crate::db::entity::recovery_code::{self, Column as CodeColumn, Entity as Codes};
use crate::db::entity::user::{self, Entity as Users};
use crate::db::window::HourlyWindow;

/// Wrong codes per code sent (or, without the request's id, per account and mail
/// window of an hour), and wrong answers per flow.
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

/// Issues a code for `user_id` (a row of its own, with its own attempt budget, that
/// lives until it expires or is used: a later request cancels nothing), unless the
/// account's hourly mail budget is spent; `false` then. A flow in progress is not
/// touched either.
pub(super) async fn issue_code(
    db: &DatabaseConnection,
    user_id: i32,
    request_hash: String,
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
        unbound_attempts_left: Set(ATTEMPTS),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;

    // The budget for codes tried without their request's id refills with the mail
    // window, not with each code, so asking for codes buys a guesser nothing.
    let window = HourlyWindow::at(now, Column::WindowStartedAt);
    let counted = Recoveries::update_many()
        .col_expr(Column::MailsInWindow, window.counted(Column::MailsInWindow))
        .col_expr(
            Column::UnboundAttemptsLeft,
            window.or_reset(ATTEMPTS, Expr::col(Column::UnboundAttemptsLeft)),
        )
        .col_expr(Column::WindowStartedAt, window.start())
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::UserId.eq(user_id))
        .filter(window.has_room(Column::MailsInWindow, MAILS_PER_HOUR))
        .exec(db)
        .await?;
    if counted.rows_affected != 1 {
        return Ok(false);
    }
    Codes::delete_many()
        .filter(CodeColumn::UserId.eq(user_id))
        .filter(CodeColumn::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    recovery_code::ActiveModel {
        user_id: Set(user_id),
        request_hash: Set(request_hash),
        code_hash: Set(code_hash),
        attempts_left: Set(ATTEMPTS),
        expires_at: Set(expires_at),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(true)
}

/// Spends an attempt and, if `code` is right, uses it up and starts the flow at the
/// question, with `token_hash` as its token and its own attempt budget. With the id
/// of the request that sent the code, only that code's budget is spent and only it
/// can match: nobody else's guesses can exhaust it. Without one, the account's
/// shared budget is spent and only the newest live code can match. `false` for a
/// wrong, expired or used code, or an exhausted budget.
///
/// One transaction, which takes the flow's row first (as `cancel` does): a
/// cancellation lands wholly before or after it, so a code issued before a password
/// change never starts a flow after it.
pub(super) async fn pass_code(
    db: &DatabaseConnection,
    user_id: i32,
    code_hash: &str,
    request_hash: Option<&str>,
    (token_hash, expires_at): (&str, DateTime<Utc>),
) -> Result<bool, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let passed = pass_code_in(
        &txn,
        user_id,
        code_hash,
        request_hash,
        (token_hash, expires_at),
    );
    let passed = passed.await?;
    txn.commit().await?;
    Ok(passed)
}

async fn pass_code_in(
    txn: &impl ConnectionTrait,
    user_id: i32,
    code_hash: &str,
    request_hash: Option<&str>,
    (token_hash, expires_at): (&str, DateTime<Utc>),
) -> Result<bool, DbErr> {
    let flow = Recoveries::update_many().filter(Column::UserId.eq(user_id));
    let taken = match request_hash {
        // Takes the flow's row; spends nothing.
        Some(_) => flow.col_expr(Column::UpdatedAt, Expr::col(Column::UpdatedAt)),
        None => flow
            .col_expr(
                Column::UnboundAttemptsLeft,
                Expr::col(Column::UnboundAttemptsLeft).sub(1),
            )
            .filter(Column::UnboundAttemptsLeft.gt(0)),
    }
    .exec(txn)
    .await?;
    if taken.rows_affected != 1 {
        return Ok(false);
    }
    let live = Condition::all()
        .add(CodeColumn::UserId.eq(user_id))
        .add(CodeColumn::ExpiresAt.gt(Utc::now()));
    let candidate: Option<i64> = match request_hash {
        Some(request) => {
            let spent = Codes::update_many()
                .col_expr(
                    CodeColumn::AttemptsLeft,
                    Expr::col(CodeColumn::AttemptsLeft).sub(1),
                )
                .filter(live.clone())
                .filter(CodeColumn::RequestHash.eq(request))
                .filter(CodeColumn::AttemptsLeft.gt(0))
                .exec(txn)
                .await?;
            if spent.rows_affected != 1 {
                return Ok(false);
            }
            Codes::find()
                .select_only()
                .column(CodeColumn::Id)
                .filter(CodeColumn::RequestHash.eq(request))
                .into_tuple()
                .one(txn)
                .await?
        }
        None => {
            Codes::find()
                .select_only()
                .column(CodeColumn::Id)
                .filter(live.clone())
                .order_by_desc(CodeColumn::CreatedAt)
                .order_by_desc(CodeColumn::Id)
                .into_tuple()
                .one(txn)
                .await?
        }
    };
    let Some(id) = candidate else {
        return Ok(false);
    };
    // Deleting is what uses the code up: of two submissions, one wins.
    let used = Codes::delete_many()
        .filter(
            live.add(CodeColumn::Id.eq(id))
                .add(CodeColumn::CodeHash.eq(code_hash)),
        )
        .exec(txn)
        .await?;
    if used.rows_affected == 0 {
        return Ok(false);
    }
    Recoveries::update_many()
        .col_expr(Column::Step, Expr::value(Step::Question))
        .col_expr(Column::AttemptsLeft, Expr::value(ATTEMPTS))
        .col_expr(Column::TokenHash, Expr::value(token_hash))
        .col_expr(Column::TokenExpiresAt, Expr::value(expires_at))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    Ok(true)
}

/// Deletes codes that expired (a code is otherwise deleted when used, or on its
/// account's next request); returns how many went.
pub async fn purge_expired_codes(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let done = Codes::delete_many()
        .filter(CodeColumn::ExpiresAt.lte(now()))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
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
pub async fn spend_reset(
    db: &impl ConnectionTrait,
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
    Codes::delete_many()
        .filter(CodeColumn::UserId.eq(user_id))
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
