#![doc = include_str!("../README.md")]

mod claims;
mod keys;

pub use claims::{Claims, Role};
pub use jsonwebtoken::jwk::JwkSet;
pub use keys::{SigningKey, Verifier};

/// The `iss` and `aud` of every Roster token.
pub const ISSUER: &str = "roster";

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
    #[error("a key is unusable: {0}")]
    BadKey(String),
}
