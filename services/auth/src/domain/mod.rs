//! Auth's rules, without I/O: the password policy and the shape of refresh tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use roster_contracts::Email;
use roster_http::FieldError;
use sha2::{Digest as _, Sha256};

/// The longest password accepted: argon2 takes any length, but a bound keeps a request
/// from buying unbounded hashing time.
pub const PASSWORD_MAX: usize = 256;

/// Checks a new password: at least `min` characters, at most [`PASSWORD_MAX`], and not
/// the account's own email or the part before its `@`.
pub fn check_password(
    field: &str,
    password: &str,
    email: &Email,
    min: usize,
) -> Result<(), FieldError> {
    let length = password.chars().count();
    let lowered = password.to_lowercase();
    let local = email.local_part();
    let message = if length < min {
        format!("must be at least {min} characters")
    } else if length > PASSWORD_MAX {
        format!("must be at most {PASSWORD_MAX} characters")
    } else if lowered.contains(email.as_str()) || (local.len() >= 3 && lowered.contains(local)) {
        "must not contain the email address".to_owned()
    } else {
        return Ok(());
    };
    Err(FieldError::new(field, message))
}

/// A new refresh token: 32 random bytes, base64url. Only its hash is stored.
pub fn new_refresh_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a refresh token: SHA-256, hex. The token is random, so a fast
/// hash is enough; it is never stored itself.
pub fn hash_refresh_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("ana.silva@example.com").unwrap()
    }

    #[test]
    fn passwords_follow_the_policy() {
        assert!(check_password("password", "correct horse battery", &email(), 10).is_ok());
        assert!(check_password("password", "short", &email(), 10).is_err());
        assert!(check_password("password", "Ana.Silva@Example.com!", &email(), 10).is_err());
        assert!(check_password("password", "xxANA.SILVAxx1234", &email(), 10).is_err());
        assert!(check_password("password", &"x".repeat(PASSWORD_MAX + 1), &email(), 10).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_hashed() {
        let a = new_refresh_token().unwrap();
        let b = new_refresh_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let hash = hash_refresh_token(&a);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&a));
        assert_eq!(hash, hash_refresh_token(&a));
    }
}
