//! Who may be mailed what, and how much. The rules:
//! - nothing but a verification code goes to an address nobody has proved, so an
//!   account's notices and recovery codes go only to its verified address, and are
//!   skipped (and logged) while there is none;
//! - every message spends from the hourly budgets of its recipient in its lane and
//!   of its account and kind ([`budget`]); a message over budget is skipped and logged;
//! - codes wait in their own queue, ahead of notices ([`Lane`]);
//! - sending never fails the request: the change it reports on is done, so a message
//!   that cannot be built or queued is logged and the request still succeeds.

use chrono::Utc;
use lettre::message::Mailbox;
use sea_orm::ConnectionTrait;

use crate::audit::ClientInfo;
use crate::db::entity::user;
use crate::mail::templates::{Templates, mailbox};
use crate::mail::{Lane, Mail, Mailer, budget};

/// The mail queues and the templates, with the routing rules applied.
#[derive(Clone)]
pub struct Notices {
    pub mailer: Mailer,
    pub templates: Templates,
}

impl Notices {
    /// The recovery code for `user`; whether it went out (there is a verified
    /// address and budget).
    pub async fn recovery_code(
        &self,
        db: &impl ConnectionTrait,
        user: &user::Model,
        code: &str,
    ) -> bool {
        let Some(to) = verified(user) else {
            return false;
        };
        let mail = self.templates.recovery_code(to, user, code);
        self.send(db, Lane::Codes, Some(user.id), mail).await
    }

    pub async fn password_changed(&self, db: &impl ConnectionTrait, user: &user::Model) {
        if let Some(to) = verified(user) {
            let mail = self.templates.password_changed(to, user);
            self.send(db, Lane::Notices, Some(user.id), mail).await;
        }
    }

    /// Tells the verified address that a second factor was turned on or off.
    pub async fn second_factor_changed(
        &self,
        db: &impl ConnectionTrait,
        user: &user::Model,
        change: &str,
    ) {
        if let Some(to) = verified(user) {
            let mail = self.templates.second_factor_changed(to, user, change);
            self.send(db, Lane::Notices, Some(user.id), mail).await;
        }
    }

    /// The verification code, to the address it proves (verified or not: that is
    /// what it is for).
    pub async fn email_code(
        &self,
        db: &impl ConnectionTrait,
        user: &user::Model,
        address: &str,
        code: &str,
    ) {
        let Some(to) = deliverable(mailbox(user, address)) else {
            return;
        };
        let mail = self.templates.email_code(to, user, code);
        self.send(db, Lane::Codes, Some(user.id), mail).await;
    }

    /// Tells the verified address that a new one was asked for.
    pub async fn email_change_requested(
        &self,
        db: &impl ConnectionTrait,
        user: &user::Model,
        new_address: &str,
        client: &ClientInfo,
    ) {
        if let Some(to) = verified(user) {
            let at = Utc::now();
            let ip = client.ip.as_deref();
            let mail = self
                .templates
                .email_change_requested(to, user, new_address, at, ip);
            self.send(db, Lane::Notices, Some(user.id), mail).await;
        }
    }

    /// Tells `holder` that someone tried to use their address for another account.
    pub async fn address_in_use(
        &self,
        db: &impl ConnectionTrait,
        holder: &user::Model,
        client: &ClientInfo,
    ) {
        if let Some(to) = verified(holder) {
            let mail = self
                .templates
                .address_in_use(to, holder, client.ip.as_deref());
            self.send(db, Lane::Notices, Some(holder.id), mail).await;
        }
    }

    /// An invitation, to the invited address (whose owner has no account yet).
    pub async fn invitation(
        &self,
        db: &impl ConnectionTrait,
        address: &str,
        inviter: &str,
        code: &str,
        expires_at: chrono::DateTime<Utc>,
    ) {
        let Ok(to) = address.parse() else {
            tracing::error!("an invited address is not deliverable");
            return;
        };
        let mail = self.templates.invitation(to, inviter, code, expires_at);
        self.send(db, Lane::Codes, None, mail).await;
    }

    /// Spends the budgets and queues `mail`; `false` when a budget was spent (or the
    /// database could not say), so nothing was sent.
    async fn send(
        &self,
        db: &impl ConnectionTrait,
        lane: Lane,
        account: Option<i32>,
        mail: Mail,
    ) -> bool {
        let recipient = budget::recipient_key(lane, mail.to.email.as_ref());
        let mut budgets = vec![(recipient, budget::PER_RECIPIENT)];
        if let Some(id) = account {
            budgets.push((budget::account_key(id, mail.kind), budget::PER_ACCOUNT_KIND));
        }
        for (key, per_hour) in budgets {
            match budget::spend(db, &key, per_hour).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(
                        kind = mail.kind,
                        ?account,
                        "mail budget spent: message not sent"
                    );
                    return false;
                }
                Err(error) => {
                    tracing::error!(kind = mail.kind, %error, "mail budget unavailable: message not sent");
                    return false;
                }
            }
        }
        self.mailer.send(lane, mail);
        true
    }
}

/// The mailbox of `user`'s verified address, if there is one.
fn verified(user: &user::Model) -> Option<Mailbox> {
    match user.verified_email() {
        Some(address) => deliverable(mailbox(user, address)),
        None => {
            tracing::info!(
                user_id = user.id,
                "no verified email address: notice not sent"
            );
            None
        }
    }
}

fn deliverable<E: std::fmt::Display>(to: Result<Mailbox, E>) -> Option<Mailbox> {
    to.map_err(|error| tracing::error!(%error, "message not built"))
        .ok()
}
