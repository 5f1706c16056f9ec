//! The list screens keep their state in the URL. This module reads their query structs
//! from a URL's query map and writes them back as `?a=b`, for the address bar and for
//! the API alike, so the two never disagree on a name or an encoding.

use leptos_router::params::ParamsMap;
use shared::{AuditQuery, ExportUsersQuery, ListUsersQuery};

/// A query struct whose fields are optional strings named as in the URL.
pub trait UrlQuery: Sized {
    /// The struct from the value of each key; absent keys stay `None`.
    fn read(get: impl Fn(&str) -> Option<String>) -> Self;

    /// The struct from a URL's query map.
    fn from_map(map: &ParamsMap) -> Self {
        Self::read(|key| map.get(key))
    }

    /// The fields with their URL names, in the order they are written.
    fn pairs(&self) -> Vec<(&'static str, Option<&str>)>;

    /// `?page=2&q=ada` from the set, non-empty fields ("" when there are none).
    fn to_query_string(&self) -> String {
        let pairs: Vec<String> = self
            .pairs()
            .into_iter()
            .filter_map(|(key, value)| {
                value
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{key}={}", encode(v)))
            })
            .collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }
}

/// Every field is listed, so a field added in `shared` fails to compile here until the
/// URL knows about it.
macro_rules! url_query {
    ($ty:ty { $($field:ident),+ $(,)? }) => {
        impl UrlQuery for $ty {
            fn read(get: impl Fn(&str) -> Option<String>) -> Self {
                Self { $($field: get(stringify!($field)),)+ }
            }

            fn pairs(&self) -> Vec<(&'static str, Option<&str>)> {
                vec![$((stringify!($field), self.$field.as_deref()),)+]
            }
        }
    };
}

url_query!(ListUsersQuery {
    page,
    per_page,
    q,
    sort,
    role,
    cursor
});
url_query!(ExportUsersQuery { q, sort, role });
url_query!(AuditQuery {
    page,
    per_page,
    actor,
    target,
    action,
    from,
    to,
    cursor
});

/// Percent-encoding for a query value (and a path segment).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query map's lookup (`ParamsMap` itself decodes through JavaScript).
    fn lookup<'a>(pairs: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn users_query_round_trips_in_field_order() {
        let query = ListUsersQuery::read(lookup(&[
            ("role", "admin"),
            ("q", "ada lovelace"),
            ("page", "2"),
        ]));
        assert_eq!(query.page.as_deref(), Some("2"));
        assert_eq!(query.per_page, None);
        assert_eq!(
            query.to_query_string(),
            "?page=2&q=ada%20lovelace&role=admin"
        );
    }

    #[test]
    fn empty_values_are_left_out() {
        let query = AuditQuery {
            action: Some("login".into()),
            actor: Some(String::new()),
            ..AuditQuery::default()
        };
        assert_eq!(query.to_query_string(), "?action=login");
        assert_eq!(AuditQuery::default().to_query_string(), "");
    }

    #[test]
    fn values_are_percent_encoded() {
        assert_eq!(encode("a/b?c=d&é"), "a%2Fb%3Fc%3Dd%26%C3%A9");
        assert_eq!(encode("safe-._~"), "safe-._~");
    }
}
