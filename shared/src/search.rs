//! The words an account can be found by, and the terms of a search.
//!
//! A search term matches an account when it is the start of a *word start* of one of
//! its fields: the whole value, or what follows any point where a word begins (after
//! punctuation or a space, or where letters turn to digits and back). So
//! `ada.lovelace@example.org` is found by `ada`, `lovelace`, `lovelace@ex`,
//! `example.org` and `org`, and `hopper123` by `hopper` and `123`. The server stores
//! these suffixes in an indexed table (one row each), so every search is a range scan
//! of that index on every database, never a scan of the accounts.

use std::collections::BTreeSet;

/// Longest term stored or searched, in characters; longer values are indexed by
/// their first this many characters (a search for a longer term then uses its start).
pub const MAX_TERM_CHARS: usize = 64;

/// Most words of a search; the rest are ignored.
pub const MAX_QUERY_TERMS: usize = 5;

/// What a stored term came from: names everyone may search, or contact details only
/// admins (and the account itself) may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TermKind {
    /// First name, last name or username.
    Name,
    /// Email address or mobile number.
    Contact,
}

impl TermKind {
    /// The value stored in the database.
    pub const fn code(self) -> i16 {
        match self {
            TermKind::Name => 0,
            TermKind::Contact => 1,
        }
    }
}

/// The searchable fields of an account.
#[derive(Debug, Clone, Copy)]
pub struct Searchable<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub mobile: &'a str,
}

/// Every term an account is found by, lower-case and without repeats.
pub fn terms(fields: Searchable<'_>) -> BTreeSet<(TermKind, String)> {
    let mut out = BTreeSet::new();
    for (kind, value) in [
        (TermKind::Name, fields.first_name),
        (TermKind::Name, fields.last_name),
        (TermKind::Name, fields.username),
        (TermKind::Contact, fields.email),
        (TermKind::Contact, fields.mobile),
    ] {
        out.extend(word_starts(value).map(|term| (kind, term)));
    }
    out
}

/// The terms of a search string: its whitespace-separated words, lower-case, at most
/// [`MAX_QUERY_TERMS`], each cut to [`MAX_TERM_CHARS`]. An account matches when every
/// term is the start of one of its terms.
pub fn query_terms(q: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in q.split_whitespace() {
        let term = clip(&word.to_lowercase());
        if !out.contains(&term) {
            out.push(term);
        }
        if out.len() == MAX_QUERY_TERMS {
            break;
        }
    }
    out
}

/// The suffixes of `value` (lower-cased) that begin at a word start.
fn word_starts(value: &str) -> impl Iterator<Item = String> {
    let lower = value.trim().to_lowercase();
    let chars: Vec<(usize, char)> = lower.char_indices().collect();
    let mut starts = Vec::new();
    for (i, &(at, c)) in chars.iter().enumerate() {
        let begins = match i.checked_sub(1).map(|p| chars[p].1) {
            None => true,
            Some(prev) => {
                c.is_alphanumeric()
                    && (!prev.is_alphanumeric() || prev.is_numeric() != c.is_numeric())
            }
        };
        if begins {
            starts.push(clip(&lower[at..]));
        }
    }
    starts.into_iter().filter(|s| !s.trim().is_empty())
}

fn clip(term: &str) -> String {
    term.chars().take(MAX_TERM_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(value: &str) -> Vec<String> {
        word_starts(value).collect()
    }

    #[test]
    fn an_email_is_found_by_each_word_and_its_domain() {
        assert_eq!(
            all("Ada.Lovelace@example.org"),
            [
                "ada.lovelace@example.org",
                "lovelace@example.org",
                "example.org",
                "org"
            ]
        );
    }

    #[test]
    fn letters_and_digits_start_words() {
        assert_eq!(
            all("grace_hopper123"),
            ["grace_hopper123", "hopper123", "123"]
        );
        assert_eq!(all("+15550001234"), ["+15550001234", "15550001234"]);
    }

    #[test]
    fn names_split_on_spaces_and_keep_accents() {
        assert_eq!(all("  Mary Ann "), ["mary ann", "ann"]);
        assert_eq!(all("Ådå"), ["ådå"]);
    }

    #[test]
    fn long_values_are_clipped() {
        let long = "x".repeat(100);
        assert_eq!(all(&long)[0].chars().count(), MAX_TERM_CHARS);
    }

    #[test]
    fn terms_keep_their_kind() {
        let terms = terms(Searchable {
            first_name: "Ada",
            last_name: "Lovelace",
            username: "ada",
            email: "ada@example.org",
            mobile: "+44",
        });
        assert!(terms.contains(&(TermKind::Name, "ada".into())));
        assert!(terms.contains(&(TermKind::Contact, "example.org".into())));
        assert!(!terms.contains(&(TermKind::Name, "example.org".into())));
        // "ada" as first name and as username is one row.
        assert_eq!(terms.iter().filter(|(_, t)| t == "ada").count(), 1);
    }

    #[test]
    fn a_query_is_its_words() {
        assert_eq!(query_terms("  Ada  LOV ada "), ["ada", "lov"]);
        assert_eq!(query_terms("a b c d e f g").len(), MAX_QUERY_TERMS);
    }
}
