//! Which addresses the app may be sent to by a link it did not write (the login
//! page's `?next=`).

/// Where to go after logging in: `next` when it is a path on this origin, else `/`.
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|next| is_local_path(next) && !is_login_page(next))
        .unwrap_or("/")
        .to_owned()
}

/// Whether `target` is the login page itself: sent there after logging in, the user
/// would stay on the form, signed in, with nothing happening.
pub fn is_login_page(target: &str) -> bool {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    path.trim_end_matches('/') == "/login"
}

/// Whether `target` can only lead to a page of this origin. Browsers read `\` as `/`
/// and drop tabs and newlines from URLs, so `/\evil.example` and `/\t/evil.example`
/// mean `//evil.example`, another host, and an escaped one (`%5C`, `%2F`) becomes
/// the real one wherever the path is decoded again. So: exactly one leading `/`, and
/// none of those characters, plain or percent-escaped, anywhere.
pub fn is_local_path(target: &str) -> bool {
    let starts_right = target.starts_with('/') && !target.starts_with("//");
    let plain_ok = !target
        .chars()
        .any(|c| c == '\\' || c.is_ascii_control() || c.is_whitespace());
    starts_right && plain_ok && !has_dangerous_escape(target)
}

/// Whether `target` holds `%2F`, `%5C`, or the escape of an ASCII control character
/// (`%00`-`%1F`, `%7F`), in either case.
fn has_dangerous_escape(target: &str) -> bool {
    target.as_bytes().windows(3).any(|w| {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (w[0], hex(w[1]), hex(w[2])) {
            (b'%', Some(high), Some(low)) => {
                let byte = high * 16 + low;
                byte == u32::from(b'/') || byte == u32::from(b'\\') || byte < 0x20 || byte == 0x7f
            }
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_pass() {
        for next in [
            "/",
            "/profile",
            "/users/3/edit",
            "/?q=ada%20lovelace&sort=-email",
            "/audit?target=3#top",
        ] {
            assert_eq!(safe_next(Some(next)), next, "{next}");
        }
    }

    #[test]
    fn anything_that_may_leave_the_origin_goes_home() {
        for (next, why) in [
            ("https://evil.example", "absolute URL"),
            ("javascript:alert(1)", "another scheme"),
            ("evil.example", "relative, no slash"),
            ("", "empty"),
            ("//evil.example", "protocol-relative"),
            ("///evil.example", "three slashes"),
            ("/\\evil.example", "backslash (read as a slash)"),
            ("\\/evil.example", "leading backslash"),
            ("/%5Cevil.example", "escaped backslash"),
            ("/%5cevil.example", "escaped backslash, lower case"),
            ("/%2F%2Fevil.example", "escaped slashes"),
            ("/%2f/evil.example", "escaped slash, lower case"),
            ("/\t/evil.example", "tab (browsers drop it)"),
            ("/\n/evil.example", "newline"),
            ("/\r/evil.example", "carriage return"),
            ("/ /evil.example", "space"),
            ("/\u{a0}/evil.example", "non-ASCII space"),
            ("/\u{7f}/evil.example", "DEL"),
            ("/%09/evil.example", "escaped tab"),
            ("/%0a/evil.example", "escaped newline"),
            ("/%0D/evil.example", "escaped carriage return"),
            ("/%00", "escaped NUL"),
            ("/%1f", "escaped unit separator"),
            ("/%7F", "escaped DEL"),
        ] {
            assert_eq!(safe_next(Some(next)), "/", "{why}: {next:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_login_page_is_no_place_to_go_after_logging_in() {
        for next in ["/login", "/login/", "/login?next=%2Fprofile", "/login#top"] {
            assert_eq!(safe_next(Some(next)), "/", "{next}");
        }
        assert_eq!(safe_next(Some("/login-help")), "/login-help");
    }

    #[test]
    fn only_complete_escapes_count() {
        // A `%` without two hex digits is no escape (and the router decodes nothing).
        assert!(is_local_path("/100%"));
        assert!(is_local_path("/%2"));
        assert!(is_local_path("/%zz"));
        assert!(is_local_path("/%20"));
        assert!(!is_local_path("/a%2fb"));
    }
}
