use sea_orm::entity::prelude::*;
use shared::Role;

/// `Debug` is written by hand below so the hashes never reach a log line.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub email: String,
    pub mobile: String,
    pub password_hash: String,
    pub security_question: Option<String>,
    pub security_answer_hash: Option<String>,
    pub role: Role,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    /// Failed logins since the last success; drives the lockout.
    pub failed_logins: i32,
    /// Logins are refused until then (the same 401 as a wrong password).
    pub locked_until: Option<DateTimeUtc>,
    /// Set while an admin has disabled the account.
    pub disabled_at: Option<DateTimeUtc>,
    /// When the owner proved they read `email`; until then only the verification
    /// code is mailed there.
    pub email_verified_at: Option<DateTimeUtc>,
    /// A new address waiting for its code; it replaces `email` once verified.
    pub pending_email: Option<String>,
    /// The content hash of the account's picture (`avatars`), which names its URL;
    /// `None` without one.
    pub avatar_version: Option<String>,
    /// When TOTP was turned on; `None` while it is off.
    pub mfa_totp_at: Option<DateTimeUtc>,
    /// Passkeys registered.
    pub mfa_passkeys: i32,
    /// Recovery codes not used yet.
    pub mfa_recovery_left: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// An admin that is not disabled: one who counts for "keep one admin".
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::Admin && self.disabled_at.is_none()
    }

    /// The address mail about the account may go to: the current one, once proved.
    pub fn verified_email(&self) -> Option<&str> {
        self.email_verified_at.map(|_| self.email.as_str())
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}
