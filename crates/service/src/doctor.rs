//! What `roster doctor` reports: each service's findings about its own data, read
//! from its database whether or not the service runs.

use std::fmt;

/// How a finding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Worth a look; nothing is lost.
    Warn,
    /// Something is wrong: `roster doctor` exits 1.
    Fail,
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "FAIL",
        })
    }
}

/// One thing `roster doctor` found, said in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub health: Health,
    pub what: String,
}

impl Finding {
    pub fn ok(what: impl Into<String>) -> Self {
        Self {
            health: Health::Ok,
            what: what.into(),
        }
    }

    pub fn warn(what: impl Into<String>) -> Self {
        Self {
            health: Health::Warn,
            what: what.into(),
        }
    }

    pub fn fail(what: impl Into<String>) -> Self {
        Self {
            health: Health::Fail,
            what: what.into(),
        }
    }
}
