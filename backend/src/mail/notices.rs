//! Who may be mailed what. The rule: nothing but a verification code goes to an
//! address nobody has proved, so an account's notices and recovery codes go only to
//! its verified address, and are skipped (and logged) while there is none.

use chrono::Utc;

use crate::audit::ClientInfo;
use crate::db::entity::user;
use crate::mail::Mailer;
use crate::mail::templates::{Templates, Undeliverable, mailbox};

/// The mail queue and the templates, with the routing rule applied.
#[derive(Clone)]
pub struct Notices {
    pub mailer: Mailer,
    pub templates: Templates,
}

impl Notices {
    /// The recovery code for `user`; `false` when there is no verified address.
    pub fn recovery_code(&self, user: &user::Model, code: &str) -> Result<bool, Undeliverable> {
        let Some(to) = verified(user)? else {
            return Ok(false);
        };
        self.mailer
            .send(self.templates.recovery_code(to, user, code));
        Ok(true)
    }

    pub fn password_changed(&self, user: &user::Model) -> Result<(), Undeliverable> {
        if let Some(to) = verified(user)? {
            self.mailer.send(self.templates.password_changed(to, user));
        }
        Ok(())
    }

    /// The verification code, to the address it proves (verified or not: that is
    /// what it is for).
    pub fn email_code(
        &self,
        user: &user::Model,
        address: &str,
        code: &str,
    ) -> Result<(), Undeliverable> {
        let to = mailbox(user, address)?;
        self.mailer.send(self.templates.email_code(to, user, code));
        Ok(())
    }

    /// Tells the verified address that a new one was asked for.
    pub fn email_change_requested(
        &self,
        user: &user::Model,
        new_address: &str,
        client: &ClientInfo,
    ) -> Result<(), Undeliverable> {
        if let Some(to) = verified(user)? {
            let mail = self.templates.email_change_requested(
                to,
                user,
                new_address,
                Utc::now(),
                client.ip.as_deref(),
            );
            self.mailer.send(mail);
        }
        Ok(())
    }

    /// Tells `holder` that someone tried to use their address for another account.
    pub fn address_in_use(
        &self,
        holder: &user::Model,
        client: &ClientInfo,
    ) -> Result<(), Undeliverable> {
        if let Some(to) = verified(holder)? {
            let mail = self
                .templates
                .address_in_use(to, holder, client.ip.as_deref());
            self.mailer.send(mail);
        }
        Ok(())
    }

    /// An invitation, to the invited address (whose owner has no account yet).
    pub fn invitation(
        &self,
        address: &str,
        inviter: &str,
        code: &str,
        expires_at: chrono::DateTime<Utc>,
    ) -> Result<(), Undeliverable> {
        let to = address.parse().map_err(|e| Undeliverable {
            user_id: 0,
            reason: format!("{e}"),
        })?;
        let mail = self.templates.invitation(to, inviter, code, expires_at);
        self.mailer.send(mail);
        Ok(())
    }
}

/// The mailbox of `user`'s verified address, if there is one.
fn verified(user: &user::Model) -> Result<Option<lettre::message::Mailbox>, Undeliverable> {
    match user.verified_email() {
        Some(address) => mailbox(user, address).map(Some),
        None => {
            tracing::info!(
                user_id = user.id,
                "no verified email address: notice not sent"
            );
            Ok(None)
        }
    }
}
