//! Which routes an API key may call, and with which scope: one table, closed by
//! default. A route not listed here answers 403 to every key, so a new endpoint is
//! never open to integrations by accident (a test walks the spec to hold that).

use actix_web::http::Method;
use shared::ApiScope;

/// `(method, route template, scope)`; templates as actix (and the spec) name them.
const ROUTES: &[(&str, &str, ApiScope)] = &[
    ("GET", "/api/v1/users", ApiScope::UsersRead),
    ("GET", "/api/v1/users/export.csv", ApiScope::UsersRead),
    ("GET", "/api/v1/users/{id}", ApiScope::UsersRead),
    ("GET", "/api/v1/users/{id}/avatar", ApiScope::UsersRead),
    ("GET", "/api/v1/users/{id}/lockout", ApiScope::UsersRead),
    ("POST", "/api/v1/users", ApiScope::UsersWrite),
    ("POST", "/api/v1/users/bulk", ApiScope::UsersWrite),
    ("POST", "/api/v1/users/import", ApiScope::UsersWrite),
    ("PUT", "/api/v1/users/{id}", ApiScope::UsersWrite),
    ("DELETE", "/api/v1/users/{id}", ApiScope::UsersWrite),
    ("PUT", "/api/v1/users/{id}/avatar", ApiScope::UsersWrite),
    ("DELETE", "/api/v1/users/{id}/avatar", ApiScope::UsersWrite),
    ("POST", "/api/v1/users/{id}/disable", ApiScope::UsersWrite),
    ("POST", "/api/v1/users/{id}/enable", ApiScope::UsersWrite),
    ("POST", "/api/v1/users/{id}/unlock", ApiScope::UsersWrite),
    (
        "DELETE",
        "/api/v1/users/{id}/sessions",
        ApiScope::UsersWrite,
    ),
    ("GET", "/api/v1/audit", ApiScope::AuditRead),
];

/// The scope a key needs for `method` on the route `template`; `None` when keys may
/// not call it at all.
pub fn required(method: &Method, template: &str) -> Option<ApiScope> {
    ROUTES
        .iter()
        .find(|(m, t, _)| *m == method.as_str() && *t == template)
        .map(|(_, _, scope)| *scope)
}

/// Every route open to keys, for the docs and the tests.
pub fn routes() -> impl Iterator<Item = (&'static str, &'static str, ApiScope)> {
    ROUTES.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_routes_are_open_and_each_to_one_scope() {
        assert_eq!(
            required(&Method::GET, "/api/v1/users"),
            Some(ApiScope::UsersRead)
        );
        assert_eq!(
            required(&Method::POST, "/api/v1/users"),
            Some(ApiScope::UsersWrite)
        );
        assert_eq!(
            required(&Method::GET, "/api/v1/audit"),
            Some(ApiScope::AuditRead)
        );
        assert_eq!(required(&Method::GET, "/api/v1/auth/me"), None);
        assert_eq!(required(&Method::POST, "/api/v1/api-keys"), None);
    }
}
