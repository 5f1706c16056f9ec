//! Typed readers over the environment. Unset and empty both mean "use the default";
//! a value that does not parse is a [`ConfigError`] naming the variable, one line.

use std::time::Duration;

/// A variable that could not be used, and why; shown as `VARIABLE: message`.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// Reads variables through any lookup (the process environment, or a map in tests).
pub struct Env<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The trimmed value, `None` when unset or empty.
    pub fn get(&self, key: &str) -> Option<String> {
        (self.lookup)(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub fn string_or(&self, key: &str, default: impl FnOnce() -> String) -> String {
        self.get(key).unwrap_or_else(default)
    }

    /// `parse(value)`, or `message` as the error when it gives `None`.
    pub fn parsed<T>(
        &self,
        key: &'static str,
        default: impl FnOnce() -> T,
        parse: impl FnOnce(&str) -> Option<T>,
        message: &str,
    ) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default()),
            Some(raw) => parse(&raw).ok_or_else(|| ConfigError::new(key, message)),
        }
    }

    /// A whole number from 1 to `max`.
    pub fn count(&self, key: &'static str, default: u32, max: u32) -> Result<u32, ConfigError> {
        self.whole(key, default, max, "")
            .map(|n| u32::try_from(n).unwrap_or(max))
    }

    /// Whole seconds from 1 to `max`.
    pub fn seconds(
        &self,
        key: &'static str,
        default: u64,
        max: u64,
    ) -> Result<Duration, ConfigError> {
        self.whole(key, default, max, " of seconds")
            .map(Duration::from_secs)
    }

    /// Whole minutes from 1 to `max`.
    pub fn minutes(
        &self,
        key: &'static str,
        default: u64,
        max: u64,
    ) -> Result<Duration, ConfigError> {
        self.whole(key, default, max, " of minutes")
            .map(|m| Duration::from_secs(m * 60))
    }

    fn whole(
        &self,
        key: &'static str,
        default: impl Into<u64>,
        max: impl Into<u64>,
        unit: &str,
    ) -> Result<u64, ConfigError> {
        let max = max.into();
        let message = format!("must be a whole number{unit} from 1 to {max}");
        self.parsed(
            key,
            || default.into(),
            |raw| raw.parse::<u64>().ok().filter(|n| (1..=max).contains(n)),
            &message,
        )
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    pub fn flag(&self, key: &'static str, default: bool) -> Result<bool, ConfigError> {
        self.parsed(key, || default, parse_bool, "must be true or false")
    }

    /// A comma-separated list; `describe(entry)` is the message for the first entry
    /// that does not parse.
    pub fn list<T>(
        &self,
        key: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        describe: impl Fn(&str) -> String,
    ) -> Result<Vec<T>, ConfigError> {
        let Some(raw) = self.get(key) else {
            return Ok(Vec::new());
        };
        raw.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| parse(entry).ok_or_else(|| ConfigError::new(key, describe(entry))))
            .collect()
    }
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_default_parse_and_name_the_variable() {
        let env = Env::new(|key: &str| match key {
            "EMPTY" => Some("  ".to_owned()),
            "TEN" => Some(" 10 ".to_owned()),
            "YES" => Some("Yes".to_owned()),
            "LIST" => Some("a, b,,c".to_owned()),
            _ => None,
        });
        assert_eq!(env.count("EMPTY", 3, 5).unwrap(), 3, "empty means default");
        assert_eq!(env.count("TEN", 3, 50).unwrap(), 10);
        assert_eq!(
            env.count("TEN", 3, 5).unwrap_err().to_string(),
            "TEN: must be a whole number from 1 to 5"
        );
        assert_eq!(env.seconds("TEN", 1, 60).unwrap(), Duration::from_secs(10));
        assert_eq!(
            env.minutes("TEN", 1, 5).unwrap_err().to_string(),
            "TEN: must be a whole number of minutes from 1 to 5"
        );
        assert!(env.flag("YES", false).unwrap());
        assert_eq!(
            env.flag("TEN", false).unwrap_err().to_string(),
            "TEN: must be true or false"
        );
        let list = env.list(
            "LIST",
            |e| (e != "c").then(|| e.to_owned()),
            |e| format!("'{e}' is bad"),
        );
        assert_eq!(list.unwrap_err().to_string(), "LIST: 'c' is bad");
        assert!(
            env.list("UNSET", |e| Some(e.to_owned()), |_| String::new())
                .unwrap()
                .is_empty()
        );
    }
}
