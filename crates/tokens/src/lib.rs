#![doc = include_str!("../README.md")]

mod claims;
mod keys;

pub use claims::{Claims, Role};
pub use jsonwebtoken::jwk::JwkSet;
pub use keys::{LEEWAY_SECS, MAX_LIFETIME_SECS, Revoked, SigningKey, VerificationState, Verifier};

/// The `iss` and `aud` of every Roster token.
pub const ISSUER: &str = "roster";

/// The service that issues tokens and publishes their keys.
pub const ISSUING_SERVICE: &str = "auth";

/// Why a token was refused. Every variant answers 401; the distinction is for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is signed by a key this service does not know")]
    UnknownKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token's signature or claims are invalid")]
    Invalid,
    #[error("the token's session has been revoked")]
    Revoked,
    #[error("a key is unusable: {0}")]
    BadKey(String),
}
