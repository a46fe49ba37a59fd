use std::fmt;

/// A configuration value that stops start-up, named by its key.
///
/// Displays as one line: `configuration: <key>: <what is wrong> (from <where>)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The dotted key, such as `storage.mode`.
    pub key: String,
    pub message: String,
    /// Where the value came from: an environment variable or a file.
    pub origin: Option<String>,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
            origin: None,
        }
    }

    pub(crate) fn from_figment(error: figment::Error) -> Self {
        // Figment may chain several errors; the first one is enough to act on.
        let origin = match &error.metadata {
            Some(md) if md.name.contains("environment") => {
                Some(format!("ROSTER_{}", error.path.join("__").to_uppercase()))
            }
            Some(md) => md.source.as_ref().map(ToString::to_string),
            None => None,
        };
        Self {
            key: error.path.join("."),
            message: one_line(&error.kind.to_string()),
            origin,
        }
    }

    /// Places a key found inside a focused section under that section.
    pub(crate) fn within(mut self, section: &str) -> Self {
        self.key = match self.key.is_empty() {
            true => section.to_owned(),
            false => format!("{section}.{}", self.key),
        };
        self
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_empty() {
            "(file)"
        } else {
            &self.key
        };
        write!(f, "configuration: {key}: {}", self.message)?;
        if let Some(origin) = &self.origin {
            write!(f, " (from {origin})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
