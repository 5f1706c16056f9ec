//! The audit trail's contract: what was recorded (`AuditEvent`) and how admins query
//! it (`GET /audit`).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::LIST_TOTAL_CAP;
use crate::common::{paging, string_enum};
use crate::cursor::Cursor;
use crate::validate::{FieldErrors, Validator};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

string_enum!(
    /// What happened.
    AuditAction {
        Signup => "signup",
        Login => "login",
        Logout => "logout",
        Lockout => "lockout",
        Unlock => "unlock",
        PasswordChange => "password_change",
        RecoveryRequested => "recovery_requested",
        RecoveryCodeVerified => "recovery_code_verified",
        RecoveryCompleted => "recovery_completed",
        UserCreated => "user_created",
        UserUpdated => "user_updated",
        UserDeleted => "user_deleted",
        UserDisabled => "user_disabled",
        UserEnabled => "user_enabled",
        RoleChanged => "role_changed",
        SessionRevoked => "session_revoked",
        EmailChangeRequested => "email_change_requested",
        EmailVerified => "email_verified",
        InvitationSent => "invitation_sent",
        InvitationRevoked => "invitation_revoked",
        AvatarChanged => "avatar_changed",
        AvatarRemoved => "avatar_removed",
        UsersExported => "users_exported",
        UsersImported => "users_imported",
        ApiKeyCreated => "api_key_created",
        ApiKeyRevoked => "api_key_revoked",
        WebhookCreated => "webhook_created",
        WebhookDeleted => "webhook_deleted",
        MfaEnabled => "mfa_enabled",
        MfaDisabled => "mfa_disabled",
        MfaReset => "mfa_reset",
        RecoveryCodeUsed => "recovery_code_used",
        RecoveryCodesRenewed => "recovery_codes_renewed",
        PasskeyAdded => "passkey_added",
        PasskeyRemoved => "passkey_removed",
    }
);

string_enum!(
    /// Whether the attempt succeeded.
    Outcome {
        Success => "success",
        Failure => "failure",
    }
);

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who acted; absent for anonymous requests (a failed login of an unknown name).
    pub actor_id: Option<i32>,
    /// The actor's username at the time (or the login name tried).
    pub actor: Option<String>,
    pub action: AuditAction,
    /// The account acted on.
    pub target_id: Option<i32>,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: Outcome,
    /// Changed field names, reasons and counts; never secret values.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>, example = json!({"fields": ["email"]})))]
    pub detail: Option<serde_json::Value>,
    /// A failure repeated from the same source within minutes is one event: how many
    /// times it happened, the last at `last_at`.
    pub repeats: u32,
    pub last_at: Option<DateTime<Utc>>,
}

/// One page of events, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    /// Matching events across all pages, counted up to 10,000: past it the count
    /// stops there and `total_exact` is false ("10,000+").
    pub total: u64,
    /// Whether `total` is the exact count.
    pub total_exact: bool,
    /// The page number: counted from the first page, following cursors.
    pub page: u64,
    pub per_page: u64,
    /// The cursor of the page after this one (older events); null on the last page.
    pub next: Option<String>,
    /// The cursor of the page before this one (newer events); null on the first page.
    pub prev: Option<String>,
}

/// Query string of `GET /audit`; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(default)]
pub struct AuditQuery {
    /// 1-based page number (default 1).
    #[cfg_attr(feature = "openapi", param(value_type = Option<u64>, minimum = 1))]
    pub page: Option<String>,
    /// Page size, 1-100 (default 50).
    #[cfg_attr(feature = "openapi", param(value_type = Option<u64>, minimum = 1, maximum = 100))]
    pub per_page: Option<String>,
    /// Who acted: an account id or a username.
    pub actor: Option<String>,
    /// Who was acted on: an account id or a username.
    pub target: Option<String>,
    /// One action, e.g. `login`.
    #[cfg_attr(feature = "openapi", param(value_type = Option<AuditAction>))]
    pub action: Option<String>,
    /// Events at or after: an RFC 3339 time or a date (`2026-11-24`, from midnight UTC).
    pub from: Option<String>,
    /// Events before: an RFC 3339 time, or a date (that whole day included).
    pub to: Option<String>,
    /// Where to go on from: the `next` or `prev` of a page with the same filters (then
    /// `page` is ignored). Pages past the first 10,000 events are reached this way.
    pub cursor: Option<String>,
}

/// An account named in a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    /// Digits: the account with this id, or with this (numeric) username.
    Id(i32),
    /// A username (lower-cased, as stored).
    Name(String),
}

impl Party {
    fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Ok(id) = raw.parse::<i32>() {
            return Ok(Party::Id(id));
        }
        if raw.chars().count() > 64 {
            return Err("must be an account id or a username".to_owned());
        }
        Ok(Party::Name(raw.to_lowercase()))
    }
}

/// A validated [`AuditQuery`]; `to` is exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    pub page: u64,
    pub per_page: u64,
    pub actor: Option<Party>,
    pub target: Option<Party>,
    pub action: Option<AuditAction>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Where the page starts (its `page` is then this page's number).
    pub cursor: Option<Cursor>,
}

impl AuditFilter {
    /// The one order of the trail, as a cursor names it.
    pub const SORT: &'static str = "-at";

    pub const DEFAULT_PER_PAGE: u64 = 50;
    pub const MAX_PER_PAGE: u64 = 100;
}

/// Which end of a day a bare date stands for.
#[derive(Clone, Copy)]
enum DayEnd {
    Start,
    /// The next midnight: "to 2026-11-24" includes that day.
    End,
}

fn parse_time(raw: &str, end: DayEnd) -> Result<DateTime<Utc>, String> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| "must be a date (2026-11-24) or an RFC 3339 time".to_owned())?;
    let date = match end {
        DayEnd::Start => date,
        DayEnd::End => date
            .succ_opt()
            .ok_or_else(|| "is out of range".to_owned())?,
    };
    Ok(date.and_time(NaiveTime::MIN).and_utc())
}

impl AuditQuery {
    pub fn validate(&self) -> Result<AuditFilter, FieldErrors> {
        let mut v = Validator::new();
        let (page, per_page) = paging(
            &mut v,
            &self.page,
            &self.per_page,
            AuditFilter::DEFAULT_PER_PAGE,
            AuditFilter::MAX_PER_PAGE,
        );
        let set = |raw: &Option<String>| raw.clone().filter(|s| !s.trim().is_empty());
        let actor = v.check_opt("actor", set(&self.actor).as_deref(), Party::parse);
        let target = v.check_opt("target", set(&self.target).as_deref(), Party::parse);
        let action = v.check_opt("action", set(&self.action).as_deref(), |raw| {
            AuditAction::parse(raw).map_err(|_| "is not a known action".to_owned())
        });
        let from = v.check_opt("from", set(&self.from).as_deref(), |raw| {
            parse_time(raw, DayEnd::Start)
        });
        let to = v.check_opt("to", set(&self.to).as_deref(), |raw| {
            parse_time(raw, DayEnd::End)
        });
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            v.fail("to", "must be after from");
        }
        let cursor = v.check_opt("cursor", set(&self.cursor).as_deref(), |raw| {
            Cursor::decode(raw)
                .filter(|c| c.sort == AuditFilter::SORT && c.value.as_deref().is_some_and(is_time))
                .ok_or_else(|| Cursor::RULE.to_owned())
        });
        if let (None, Some(page), Some(per_page)) = (&cursor, page, per_page)
            && (page - 1) * per_page >= LIST_TOTAL_CAP
        {
            v.fail(
                "page",
                format!(
                    "reaches past the first {LIST_TOTAL_CAP} events: go on from there with the `next` cursor"
                ),
            );
        }
        v.finish(|| AuditFilter {
            page: cursor.as_ref().map_or(page.unwrap(), |c| c.page),
            per_page: per_page.unwrap(),
            actor,
            target,
            action,
            from,
            to,
            cursor,
        })
    }
}

fn is_time(raw: &str) -> bool {
    DateTime::parse_from_rfc3339(raw).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> AuditQuery {
        let mut q = AuditQuery::default();
        for (key, value) in pairs {
            let value = Some((*value).to_owned());
            match *key {
                "page" => q.page = value,
                "actor" => q.actor = value,
                "target" => q.target = value,
                "action" => q.action = value,
                "from" => q.from = value,
                "to" => q.to = value,
                "cursor" => q.cursor = value,
                _ => unreachable!(),
            }
        }
        q
    }

    #[test]
    fn filters_parse() {
        let f = query(&[
            ("actor", "7"),
            ("target", "Ada"),
            ("action", "login"),
            ("from", "2026-11-24"),
            ("to", "2026-11-24"),
        ])
        .validate()
        .unwrap();
        assert_eq!(f.actor, Some(Party::Id(7)));
        assert_eq!(f.target, Some(Party::Name("ada".into())));
        assert_eq!(f.action, Some(AuditAction::Login));
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-11-24T00:00:00+00:00");
        assert_eq!(
            f.to.unwrap().to_rfc3339(),
            "2026-11-25T00:00:00+00:00",
            "a bare `to` date includes that day"
        );
        assert_eq!(f.per_page, AuditFilter::DEFAULT_PER_PAGE);
    }

    #[test]
    fn bad_filters_name_their_field() {
        let errors = query(&[("page", "0"), ("action", "dance"), ("from", "yesterday")])
            .validate()
            .unwrap_err();
        assert_eq!(
            errors.keys().map(String::as_str).collect::<Vec<_>>(),
            ["action", "from", "page"]
        );
        let reversed = query(&[("from", "2026-11-25"), ("to", "2026-11-24")])
            .validate()
            .unwrap_err();
        assert_eq!(reversed["to"], "must be after from");
    }

    #[test]
    fn deep_pages_go_by_cursor() {
        let cursor = Cursor {
            before: false,
            page: 301,
            sort: AuditFilter::SORT.into(),
            value: Some("2026-11-24T10:00:00Z".into()),
            id: 12,
        };
        let f = query(&[("cursor", &cursor.encode()), ("page", "999")])
            .validate()
            .unwrap();
        assert_eq!(f.page, 301, "the cursor's page, not the number");
        assert_eq!(f.cursor, Some(cursor.clone()));
        let deep = query(&[("page", "201")]).validate().unwrap_err();
        assert!(deep["page"].contains("`next` cursor"), "{deep:?}");
        assert!(query(&[("page", "200")]).validate().is_ok());
        for wrong in [
            Cursor {
                sort: "username".into(),
                ..cursor.clone()
            },
            Cursor {
                value: Some("ada".into()),
                ..cursor.clone()
            },
            Cursor {
                value: None,
                ..cursor
            },
        ] {
            let errors = query(&[("cursor", &wrong.encode())])
                .validate()
                .unwrap_err();
            assert_eq!(errors["cursor"], Cursor::RULE);
        }
    }

    #[test]
    fn every_action_round_trips() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Ok(*action));
            let json = serde_json::to_string(action).unwrap();
            assert_eq!(json, format!("\"{action}\""));
        }
    }
}
