//! What every area shares: the error envelope, the health probes' answer, paging, and
//! the enums whose values travel as strings (in JSON and in database columns).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validate::{FieldErrors, Validator};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A closed set of values written as fixed strings: in JSON (serde), in the OpenAPI
/// document (`openapi`) and in database columns (`db`, SeaORM's string value type), so
/// no code anywhere compares them as raw strings. The strings are the variants'
/// names in snake_case (serde's and utoipa's `rename_all`; a literal passed through
/// a `macro_rules!` fragment is invisible to utoipa's attribute parser), written out
/// for `as_str`; a test checks that the two agree.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "db", derive(sea_orm::DeriveValueType), sea_orm(value_type = "String"))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value named `raw` (surrounding spaces ignored), or a field message
            /// listing the accepted names.
            pub fn parse(raw: &str) -> Result<Self, String> {
                let raw = raw.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == raw)
                    .ok_or_else(|| $crate::common::one_of(Self::ALL.iter().map(|v| v.as_str())))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::common::UnknownValue;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == raw)
                    .ok_or_else(|| $crate::common::UnknownValue {
                        kind: stringify!($name),
                        value: raw.to_owned(),
                    })
            }
        }
    };
}

pub(crate) use string_enum;

/// "must be one of: admin, user".
pub(crate) fn one_of<'a>(names: impl Iterator<Item = &'a str>) -> String {
    format!("must be one of: {}", names.collect::<Vec<_>>().join(", "))
}

/// A stored or sent string that names no value of one of these enums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' is not a {}", self.value, self.kind)
    }
}

impl std::error::Error for UnknownValue {}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`, `conflict`, `unauthorized`.
    #[cfg_attr(feature = "openapi", schema(example = "validation_failed"))]
    pub code: String,
    /// A sentence for people.
    #[cfg_attr(feature = "openapi", schema(example = "Some fields are invalid."))]
    pub message: String,
    /// Field name -> message, for errors tied to input fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = json!({"email": "is not a valid email address"})))]
    pub fields: Option<FieldErrors>,
}

/// An answer that is only a sentence (e.g. "a code is on its way").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MessageResponse {
    pub message: String,
}

/// `GET /health` and `GET /ready`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HealthStatus {
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub status: String,
    /// `/ready` only: the outgoing mail queues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailQueueStatus>,
}

/// The outgoing mail queues: codes go first, notices after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MailQueueStatus {
    pub codes_queued: u64,
    pub notices_queued: u64,
    /// How many each queue holds.
    pub capacity: u64,
    /// Messages dropped because their queue was full, since start-up.
    pub dropped: u64,
    /// Messages given up on (refused by the mail server, or still failing after the
    /// retries), since start-up.
    pub failed: u64,
}

/// `page` and `per_page` of a list query: absent means page 1 and `default` items.
pub(crate) fn paging(
    v: &mut Validator,
    page: &Option<String>,
    per_page: &Option<String>,
    default: u64,
    max: u64,
) -> (Option<u64>, Option<u64>) {
    let number = |raw: &Option<String>, default: u64, max: u64| -> Result<u64, String> {
        let Some(raw) = raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(default);
        };
        match raw.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("must be a whole number from 1 to {max}")),
        }
    };
    // The page bound keeps OFFSET arithmetic far from overflow.
    (
        v.check("page", number(page, 1, MAX_PAGE)),
        v.check("per_page", number(per_page, default, max)),
    )
}

/// The highest page number a list accepts.
const MAX_PAGE: u64 = 10_000_000;

#[cfg(test)]
mod tests {
    use crate::{AuditAction, Outcome, Role, SessionKind, SortKey};

    /// serde (and the OpenAPI schema) write `rename_all = "snake_case"`; `as_str`
    /// (and the database) the literals: they must agree.
    fn json_is_as_str<T: serde::Serialize + std::fmt::Display>(all: &[T]) {
        for value in all {
            assert_eq!(
                serde_json::to_string(value).unwrap(),
                format!("\"{value}\"")
            );
        }
    }

    #[test]
    fn every_string_enum_writes_the_same_names_everywhere() {
        json_is_as_str(Role::ALL);
        json_is_as_str(SortKey::ALL);
        json_is_as_str(SessionKind::ALL);
        json_is_as_str(AuditAction::ALL);
        json_is_as_str(Outcome::ALL);
    }

    string_enum!(
        /// A test enum.
        Fruit {
            Apple => "apple",
            BloodOrange => "blood_orange",
        }
    );

    #[test]
    fn string_enums_round_trip_and_explain_refusals() {
        for fruit in Fruit::ALL {
            assert_eq!(Fruit::parse(fruit.as_str()), Ok(*fruit));
            assert_eq!(fruit.as_str().parse::<Fruit>(), Ok(*fruit));
            assert_eq!(
                serde_json::to_string(fruit).unwrap(),
                format!("\"{fruit}\"")
            );
        }
        assert_eq!(Fruit::parse(" apple "), Ok(Fruit::Apple));
        assert_eq!(
            Fruit::parse("pear").unwrap_err(),
            "must be one of: apple, blood_orange"
        );
        assert_eq!(
            "pear".parse::<Fruit>().unwrap_err().to_string(),
            "'pear' is not a Fruit"
        );
    }
}
