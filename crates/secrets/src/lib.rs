#![doc = include_str!("../README.md")]

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use roster_config::{DATA_KEY_LEN, SecurityConfig};

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("no data key is configured (security.data_key)")]
    NoKey,
    #[error("cannot draw a random nonce")]
    Random,
    #[error("the sealed value does not open with this key and context")]
    Open,
}

/// The installation's data key. Prints nothing of itself.
#[derive(Clone)]
pub struct DataKey(XChaCha20Poly1305);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

impl DataKey {
    pub fn new(bytes: &[u8; DATA_KEY_LEN]) -> Self {
        Self(XChaCha20Poly1305::new(bytes.into()))
    }

    /// The configured key.
    pub fn from_config(security: &SecurityConfig) -> Result<Self, SealError> {
        security
            .data_key_bytes()
            .map(|bytes| Self::new(&bytes))
            .ok_or(SealError::NoKey)
    }

    /// Seals `plaintext` for `context`: nonce then ciphertext.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
        let sealed = self
            .0
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Random)?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// Opens what [`DataKey::seal`] sealed for the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Open)?;
        self.0
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context_with_their_key() {
        let key = DataKey::new(&[7; DATA_KEY_LEN]);
        let sealed = key.seal("people.salary:1", b"55000.00").unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"55000.00"));
        assert_eq!(key.open("people.salary:1", &sealed).unwrap(), b"55000.00");
        assert_eq!(key.open("people.salary:2", &sealed), Err(SealError::Open));
        let other = DataKey::new(&[8; DATA_KEY_LEN]);
        assert_eq!(other.open("people.salary:1", &sealed), Err(SealError::Open));
        assert_eq!(key.open("x", b"short"), Err(SealError::Open));
        assert_ne!(key.seal("c", b"v").unwrap(), key.seal("c", b"v").unwrap());
    }
}
