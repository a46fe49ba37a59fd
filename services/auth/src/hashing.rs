//! Password hashing with argon2id, off the async threads, as many at once as the
//! machine has cores.

use std::sync::Arc;

use argon2::password_hash::{
    Output, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use roster_config::Argon2Config;

/// Hashes and verifies passwords. Verifying an unknown account's password costs the
/// same as a known one's: [`Hasher::verify`] runs against a decoy hash with the same
/// parameters, random salt and random output, which no password matches. Making the
/// decoy costs nothing: it is written, not computed.
///
/// Each hash holds `memory_kib` (19 MiB by default) while it runs, and a hash is all
/// CPU: more of them at once than there are cores would finish none sooner, only hold
/// more memory (a burst of logins or hires could otherwise take hundreds of MiB). So
/// they take turns, one per core.
#[derive(Debug, Clone)]
pub struct Hasher {
    params: Params,
    decoy: String,
    turns: Arc<tokio::sync::Semaphore>,
}

impl Hasher {
    pub fn new(config: Argon2Config) -> anyhow::Result<Self> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("auth.argon2: {e}"))?;
        let mut salt = [0u8; 16];
        let mut output = [0u8; 32];
        getrandom::fill(&mut salt)?;
        getrandom::fill(&mut output)?;
        let decoy = format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?,
            Output::new(&output).map_err(|e| anyhow::anyhow!("output: {e}"))?,
        );
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Ok(Self {
            params,
            decoy,
            turns: Arc::new(tokio::sync::Semaphore::new(cores)),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_now(&self, password: &str) -> anyhow::Result<String> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt)?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Ok(self
            .argon2()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
            .to_string())
    }

    /// The PHC string of a new hash of `password`.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        // The turn goes with the work: a caller that gives up does not free it early.
        let turn = Arc::clone(&self.turns).acquire_owned().await?;
        let hasher = self.clone();
        tokio::task::spawn_blocking(move || {
            let hashed = hasher.hash_now(&password);
            drop(turn);
            hashed
        })
        .await?
    }

    /// Whether `password` matches `hash` (a PHC string, with its own parameters), or,
    /// without a hash, the same work against the decoy, answering false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy.clone());
        let argon2 = self.argon2();
        let Ok(turn) = Arc::clone(&self.turns).acquire_owned().await else {
            return false;
        };
        let matched = tokio::task::spawn_blocking(move || {
            let matched = PasswordHash::new(&hash)
                .is_ok_and(|parsed| argon2.verify_password(password.as_bytes(), &parsed).is_ok());
            drop(turn);
            matched
        })
        .await
        .unwrap_or(false);
        known && matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Hasher {
        Hasher::new(Argon2Config {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = cheap();
        let hash = hasher.hash("correct horse".to_owned()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("correct horse"));
        assert!(
            hasher
                .verify("correct horse".to_owned(), Some(hash.clone()))
                .await
        );
        assert!(!hasher.verify("wrong horse".to_owned(), Some(hash)).await);
        assert!(!hasher.verify("correct horse".to_owned(), None).await);
    }

    #[tokio::test]
    async fn the_decoy_costs_what_a_real_hash_costs() {
        let hasher = cheap();
        let real = hasher.hash("correct horse".to_owned()).await.unwrap();
        let real = PasswordHash::new(&real).unwrap();
        let decoy = PasswordHash::new(&hasher.decoy).unwrap();
        assert_eq!(decoy.algorithm, real.algorithm);
        assert_eq!(decoy.version, real.version);
        assert_eq!(
            Params::try_from(&decoy).unwrap(),
            Params::try_from(&real).unwrap()
        );
    }
}
