//! How numbers, times and page ranges read on screen.

use chrono::{DateTime, Utc};

/// The browser's clock (`Utc::now()` has no clock to read in WebAssembly; natively,
/// for the unit tests, it is the system's).
pub fn now() -> DateTime<Utc> {
    #[cfg(target_arch = "wasm32")]
    {
        DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Utc::now()
    }
}

/// 1320 -> "1,320".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "Showing 21–40 of 1,320" for page `page` of `per_page` items, `shown` on it; a
/// count that stopped at its cap (`exact` false) reads "10,000+".
pub fn range_summary(
    page: u64,
    per_page: u64,
    shown: usize,
    (total, exact): (u64, bool),
    noun: &str,
) -> String {
    let total_text = if exact {
        thousands(total)
    } else {
        format!("{}+", thousands(total))
    };
    if total == 0 {
        return format!("No {noun}");
    }
    if shown == 0 {
        return format!("Nothing on this page ({total_text} in all)");
    }
    let first = (page - 1) * per_page + 1;
    let last = first + shown as u64 - 1;
    format!(
        "Showing {}–{} of {total_text}",
        thousands(first),
        thousands(last),
    )
}

pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A time, or "Never".
pub fn time_or_never(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "Never".to_owned(), time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1320), "1,320");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn summaries() {
        assert_eq!(
            range_summary(2, 20, 20, (1320, true), "users"),
            "Showing 21–40 of 1,320"
        );
        assert_eq!(range_summary(1, 20, 0, (0, true), "users"), "No users");
        assert_eq!(
            range_summary(9, 20, 0, (3, true), "users"),
            "Nothing on this page (3 in all)"
        );
        assert_eq!(
            range_summary(1, 20, 20, (10_000, false), "users"),
            "Showing 1–20 of 10,000+"
        );
    }
}
