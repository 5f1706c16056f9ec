//! Who may sign up: the mode (open, by invitation, closed), an optional list of email
//! domains, and the first account of an instance reachable from the network, which
//! needs the setup token printed at start-up (a stranger must not claim the admin).

use sea_orm::{DatabaseConnection, DbErr};
use sha2::{Digest, Sha256};
use shared::{NewAccount, SignupMode, SignupOptions};

use super::{AccountError, Creation, admins, invitations};
use crate::auth::codes::Codes;

/// The sign-up rules of one deployment.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub mode: SignupMode,
    /// Lower-case domains; empty means any.
    pub email_domains: Vec<String>,
    /// Set when the instance is reachable from the network: the first account (the
    /// admin) must bring it.
    pub setup_token: Option<String>,
}

impl Registration {
    /// What the sign-up form must ask for now.
    pub async fn options(&self, db: &DatabaseConnection) -> Result<SignupOptions, DbErr> {
        let unsettled = !admins::first_admin_settled(db).await?;
        Ok(SignupOptions {
            mode: self.mode,
            email_domains: self.email_domains.clone(),
            setup_token_required: unsettled && self.setup_token.is_some(),
            first_account_open: unsettled && self.setup_token.is_none(),
        })
    }

    /// Whether `account` may sign up with the codes it brought, and how it is then
    /// created. A refusal by policy is a [`AccountError::Refused`] saying why.
    pub async fn admit(
        &self,
        db: &DatabaseConnection,
        codes: &Codes,
        account: &NewAccount,
        invitation_code: Option<&str>,
        setup_token: Option<&str>,
    ) -> Result<Creation, AccountError> {
        let setup_token_ok = self
            .setup_token
            .as_deref()
            .map(|expected| setup_token.is_some_and(|given| same_secret(given, expected)));
        match self.check_policy(db, codes, account, invitation_code).await {
            Ok(creation) => Ok(Creation {
                setup_token_ok,
                ..creation
            }),
            // The first account is the operator's (it becomes the admin): on this
            // machine whoever signs up first, elsewhere whoever has the setup token.
            // It passes the sign-up rules, so an instance that starts by invitation or
            // closed can still get its admin; if another sign-up wins the race, the
            // refusal stands.
            Err(AccountError::Refused(_))
                if setup_token_ok != Some(false) && !admins::first_admin_settled(db).await? =>
            {
                Ok(Creation {
                    setup_token_ok,
                    first_admin_only: true,
                    ..Creation::default()
                })
            }
            Err(refused) => Err(refused),
        }
    }

    /// The mode, the domains and the invitation.
    async fn check_policy(
        &self,
        db: &DatabaseConnection,
        codes: &Codes,
        account: &NewAccount,
        invitation_code: Option<&str>,
    ) -> Result<Creation, AccountError> {
        if self.mode == SignupMode::Closed {
            return Err(refused("Sign-up is closed: ask an admin for an account."));
        }
        let email = account.email.as_str();
        if !self.domain_allowed(email) {
            return Err(AccountError::Refused(format!(
                "Sign-up is limited to addresses at {}.",
                self.email_domains.join(", ")
            )));
        }
        let code = invitation_code.filter(|c| !c.trim().is_empty());
        if self.mode == SignupMode::Invite && code.is_none() {
            return Err(refused(
                "Sign-up is by invitation: enter the code from your invitation mail.",
            ));
        }
        // In open mode an invitation is optional; one that is given must be right.
        let invitation = match code {
            Some(code) => Some(
                invitations::check(db, codes, email, code)
                    .await?
                    .ok_or_else(|| {
                        refused(
                            "The invitation code does not match this address, or it has expired.",
                        )
                    })?,
            ),
            None => None,
        };
        Ok(Creation {
            // The invitation code came back from this address.
            email_verified: invitation.is_some(),
            invitation,
            ..Creation::default()
        })
    }

    fn domain_allowed(&self, email: &str) -> bool {
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
        self.email_domains.is_empty() || self.email_domains.iter().any(|d| d == domain)
    }
}

fn refused(why: &str) -> AccountError {
    AccountError::Refused(why.to_owned())
}

/// Compares digests, so the time taken says nothing about how much of a guess was
/// right.
fn same_secret(given: &str, expected: &str) -> bool {
    Sha256::digest(given.trim().as_bytes()) == Sha256::digest(expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_match_exactly() {
        let registration = Registration {
            email_domains: vec!["example.com".into()],
            ..Registration::default()
        };
        assert!(registration.domain_allowed("ada@example.com"));
        assert!(!registration.domain_allowed("ada@mail.example.com"));
        assert!(!registration.domain_allowed("ada@example.com.evil.org"));
        assert!(Registration::default().domain_allowed("ada@anywhere.org"));
        assert!(same_secret(" abc ", "abc") && !same_secret("abd", "abc"));
    }
}
