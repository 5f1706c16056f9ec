//! Keyset cursors: where a page of a list ends, so the next (or previous) page is a
//! range read of an index however deep it is, where `OFFSET` would walk every row
//! before it.

use std::fmt::Write;

/// A position in a sorted list: the sort it belongs to, the sort value and id of the
/// row at the edge of the page it came from, which way to go from there, and the
/// number of the page it leads to (for display; rows added meanwhile may shift it).
///
/// Written as an opaque, URL-safe string; clients pass back what they got in `next`
/// or `prev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Rows before the edge row (a `prev` cursor) rather than after it.
    pub before: bool,
    /// The page number this cursor leads to.
    pub page: u64,
    /// The sort, as written in the query (`-created_at`).
    pub sort: String,
    /// The edge row's sort value (text, RFC 3339 for times); `None` for a null.
    pub value: Option<String>,
    /// The edge row's id (breaks ties between equal values).
    pub id: i64,
}

impl Cursor {
    /// What a client is told when a cursor does not parse or belongs to another sort.
    pub const RULE: &'static str =
        "is not a cursor of this list and sort (pass back `next` or `prev` as given)";

    pub fn encode(&self) -> String {
        let mut out = format!(
            "{}{}~{}~{}~",
            if self.before { 'p' } else { 'n' },
            self.page,
            self.id,
            self.sort
        );
        match &self.value {
            None => out.push('.'),
            Some(value) => {
                for byte in value.bytes() {
                    let _ = write!(out, "{byte:02x}");
                }
            }
        }
        out
    }

    pub fn decode(raw: &str) -> Option<Cursor> {
        let mut parts = raw.trim().splitn(4, '~');
        let head = parts.next()?;
        let before = match head.chars().next()? {
            'n' => false,
            'p' => true,
            _ => return None,
        };
        let page = head.get(1..)?.parse().ok().filter(|p| *p >= 1)?;
        let id = parts.next()?.parse().ok()?;
        let sort = parts.next()?.to_owned();
        let value = match parts.next()? {
            "." => None,
            hex => Some(decode_hex(hex)?),
        };
        Some(Cursor {
            before,
            page,
            sort,
            value,
            id,
        })
    }
}

fn decode_hex(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn a_cursor_survives_its_encoding() {
        for value in [
            None,
            Some("ada~lovelace@ex.org".to_owned()),
            Some(String::new()),
        ] {
            let cursor = Cursor {
                before: value.is_none(),
                page: 7,
                sort: "-last_login_at".into(),
                value,
                id: 42,
            };
            let encoded = cursor.encode();
            assert!(
                encoded
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c)),
                "{encoded}"
            );
            assert_eq!(Cursor::decode(&encoded), Some(cursor));
        }
    }

    #[test]
    fn garbage_is_no_cursor() {
        for raw in [
            "",
            "x1~2~id~.",
            "n0~1~id~.",
            "n1~x~id~.",
            "n1~1~id~abc",
            "n1~1~id~zz",
        ] {
            assert_eq!(Cursor::decode(raw), None, "{raw}");
        }
    }
}
