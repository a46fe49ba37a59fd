use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Claims, ISSUER, TokenError};

/// An Ed25519 private key that signs access tokens. Prints only its key id.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    der: Vec<u8>,
    public: Jwk,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key, named by a random key id.
    pub fn generate() -> Result<Self, TokenError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| TokenError::BadKey(e.to_string()))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let der = key
            .to_pkcs8_der()
            .map_err(|e| TokenError::BadKey(e.to_string()))?;
        Self::from_pkcs8_der(uuid::Uuid::now_v7().simple().to_string(), der.as_bytes())
    }

    /// A key stored as PKCS#8 DER under its key id.
    pub fn from_pkcs8_der(kid: String, der: &[u8]) -> Result<Self, TokenError> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_der(der)
            .map_err(|e| TokenError::BadKey(format!("key {kid}: {e}")))?;
        let public = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
            }),
        };
        Ok(Self {
            kid,
            encoding: EncodingKey::from_ed_der(der),
            der: der.to_vec(),
            public,
        })
    }

    /// The private key as PKCS#8 DER, to store (encrypted).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.der
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, as published in a JWK set.
    pub fn public_jwk(&self) -> &Jwk {
        &self.public
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| TokenError::BadKey(e.to_string()))
    }
}

/// Verifies access tokens against a set of public keys, locally, and refuses the tokens
/// of revoked sessions. Clones share their state, so a key or a revocation reaches every
/// clone at once.
///
/// Verified tokens are cached (up to a capacity) until they expire, so a hot path pays a
/// hash lookup rather than a signature check; a cached token is still checked for expiry
/// and revocation on every use.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    /// Keys this process trusts on its own (a test harness's key).
    pinned: RwLock<Arc<HashMap<String, DecodingKey>>>,
    /// Keys auth publishes, replaced on every refresh.
    published: RwLock<Arc<HashMap<String, DecodingKey>>>,
    /// Revoked session ids, each until the last moment a token of it could be valid.
    revoked: RwLock<HashMap<Uuid, i64>>,
    cache: RwLock<HashMap<Box<str>, Claims>>,
    capacity: usize,
    validation: Validation,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<String> = read(&self.inner.pinned).keys().cloned().collect();
        kids.extend(read(&self.inner.published).keys().cloned());
        f.debug_struct("Verifier")
            .field("kids", &kids)
            .field("cache_capacity", &self.inner.capacity)
            .finish()
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

/// A read guard; a writer that panicked left whole values behind, so poison is ignored.
fn reading<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn writing<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(lock: &RwLock<Arc<T>>) -> Arc<T> {
    reading(lock).clone()
}

/// Seconds of clock skew tolerated between the issuer and a verifier.
pub const LEEWAY_SECS: i64 = 30;

/// The longest a token may live: no Roster issues one for longer (the configuration
/// refuses an `auth.access_token_ttl_secs` above it), so a longer one is not Roster's.
pub const MAX_LIFETIME_SECS: i64 = 86_400;

impl Verifier {
    /// A verifier that knows no key yet, and so refuses every token. No cache.
    pub fn new() -> Self {
        Self::with_cache(0)
    }

    /// A verifier that caches up to `capacity` verified tokens.
    pub fn with_cache(capacity: usize) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS.unsigned_abs();
        Self {
            inner: Arc::new(Inner {
                pinned: RwLock::default(),
                published: RwLock::default(),
                revoked: RwLock::default(),
                cache: RwLock::default(),
                capacity,
                validation,
            }),
        }
    }

    /// Replaces the published keys (auth's JWK set). Keys that are not Ed25519 signing
    /// keys are refused. Tokens signed by a key no longer published stop verifying.
    pub fn set_keys(&self, set: &JwkSet) -> Result<(), TokenError> {
        let keys: HashMap<String, DecodingKey> = set
            .keys
            .iter()
            .map(decoding_key)
            .collect::<Result<_, _>>()?;
        let changed = {
            let mut guard = writing(&self.inner.published);
            let changed = guard.len() != keys.len() || keys.keys().any(|k| !guard.contains_key(k));
            *guard = Arc::new(keys);
            changed
        };
        if changed {
            self.clear_cache();
        }
        Ok(())
    }

    /// Applies auth's current keys and revocations.
    pub fn apply(&self, state: &VerificationState) -> Result<(), TokenError> {
        self.set_keys(&state.keys)?;
        self.set_revoked(&state.revoked);
        Ok(())
    }

    /// Trusts one key beside the published ones, whatever auth publishes.
    pub fn trust(&self, jwk: &Jwk) -> Result<(), TokenError> {
        let (kid, key) = decoding_key(jwk)?;
        let mut guard = writing(&self.inner.pinned);
        let mut keys = (**guard).clone();
        keys.insert(kid, key);
        *guard = Arc::new(keys);
        Ok(())
    }

    /// Refuses the tokens of a session from now on. `until` is the last moment (Unix
    /// seconds) a token of the session could be valid; the entry is forgotten after.
    pub fn revoke(&self, session_id: Uuid, until: i64) {
        writing(&self.inner.revoked).insert(session_id, until);
    }

    /// Replaces the revoked sessions with auth's current list.
    pub fn set_revoked(&self, revoked: &[Revoked]) {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let fresh = revoked
            .iter()
            .filter(|r| r.until + LEEWAY_SECS >= now)
            .map(|r| (r.session_id, r.until))
            .collect();
        *writing(&self.inner.revoked) = fresh;
    }

    /// Whether the tokens of session `session_id` are refused as revoked.
    pub fn is_revoked(&self, session_id: Uuid) -> bool {
        reading(&self.inner.revoked).contains_key(&session_id)
    }

    fn clear_cache(&self) {
        writing(&self.inner.cache).clear();
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let cached = match self.inner.capacity {
            0 => None,
            _ => reading(&self.inner.cache).get(token).cloned(),
        };
        let claims = match cached {
            Some(claims) if claims.exp + LEEWAY_SECS < now => return Err(TokenError::Expired),
            Some(claims) => claims,
            None => {
                let claims = self.verify_signature(token)?;
                self.remember(token, &claims, now);
                claims
            }
        };
        match self.is_revoked(claims.sid) {
            true => Err(TokenError::Revoked),
            false => Ok(claims),
        }
    }

    fn verify_signature(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let pinned = read(&self.inner.pinned);
        let published = read(&self.inner.published);
        let key = pinned
            .get(&kid)
            .or_else(|| published.get(&kid))
            .ok_or(TokenError::UnknownKey)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.inner.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) => {
                    TokenError::Malformed
                }
                _ => TokenError::Invalid,
            })?;
        // Issued in the future, or to outlive what a token is ever issued for: not one
        // Roster made.
        let now = OffsetDateTime::now_utc().unix_timestamp();
        if claims.iat > now + LEEWAY_SECS || claims.exp - claims.iat > MAX_LIFETIME_SECS {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }

    /// Caches a verified token. A full cache first drops what has expired, and is
    /// emptied if that frees nothing: a bounded memory, whatever the traffic.
    fn remember(&self, token: &str, claims: &Claims, now: i64) {
        if self.inner.capacity == 0 {
            return;
        }
        let mut cache = writing(&self.inner.cache);
        if cache.len() >= self.inner.capacity {
            cache.retain(|_, c| c.exp + LEEWAY_SECS >= now);
            if cache.len() >= self.inner.capacity {
                cache.clear();
            }
        }
        cache.insert(token.into(), claims.clone());
    }
}

/// A revoked session, as auth publishes it to the other services.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revoked {
    pub session_id: Uuid,
    /// The last moment (Unix seconds) a token of the session could be valid.
    pub until: i64,
}

/// What every service needs from auth to verify tokens on its own: the published keys
/// and the sessions revoked while their tokens could still be valid.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct VerificationState {
    pub keys: JwkSet,
    pub revoked: Vec<Revoked>,
    /// Changes whenever auth's process revokes a session: a follower that asks with
    /// the version it holds is answered as soon as it changes (a long poll).
    #[serde(default)]
    pub version: u64,
}

fn decoding_key(jwk: &Jwk) -> Result<(String, DecodingKey), TokenError> {
    let kid = jwk
        .common
        .key_id
        .clone()
        .ok_or_else(|| TokenError::BadKey("a key has no kid".to_owned()))?;
    match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            let key = DecodingKey::from_ed_components(&okp.x)
                .map_err(|e| TokenError::BadKey(format!("key {kid}: {e}")))?;
            Ok((kid, key))
        }
        _ => Err(TokenError::BadKey(format!(
            "key {kid} is not an Ed25519 key"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use uuid::Uuid;

    use super::*;
    use crate::Role;

    fn claims(ttl: Duration) -> Claims {
        Claims::new(
            Uuid::now_v7(),
            Uuid::now_v7(),
            vec![Role::Admin],
            Uuid::now_v7(),
            ttl,
        )
    }

    #[test]
    fn a_token_signed_by_a_trusted_key_verifies() {
        let key = SigningKey::generate().unwrap();
        let verifier = Verifier::new();
        verifier.trust(key.public_jwk()).unwrap();
        let claims = claims(Duration::minutes(15));
        assert_eq!(
            verifier.verify(&key.sign(&claims).unwrap()).unwrap(),
            claims
        );
    }

    #[test]
    fn a_verifier_without_keys_refuses_everything() {
        let key = SigningKey::generate().unwrap();
        let token = key.sign(&claims(Duration::minutes(15))).unwrap();
        assert_eq!(Verifier::new().verify(&token), Err(TokenError::UnknownKey));
    }

    #[test]
    fn a_key_with_the_same_kid_but_other_material_is_refused() {
        let trusted = SigningKey::generate().unwrap();
        let forger = SigningKey::generate().unwrap();
        let verifier = Verifier::new();
        verifier.trust(trusted.public_jwk()).unwrap();
        // The forger signs with its own key but claims the trusted kid.
        let token = forger.sign(&claims(Duration::minutes(15))).unwrap();
        let (_, rest) = token.split_once('.').unwrap();
        let header = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"typ":"JWT","alg":"EdDSA","kid":"{}"}}"#,
            trusted.kid()
        ));
        assert_eq!(
            verifier.verify(&format!("{header}.{rest}")),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn expired_and_garbage_tokens_are_refused() {
        let key = SigningKey::generate().unwrap();
        let verifier = Verifier::new();
        verifier.trust(key.public_jwk()).unwrap();
        let token = key.sign(&claims(Duration::minutes(-5))).unwrap();
        assert_eq!(verifier.verify(&token), Err(TokenError::Expired));
        assert_eq!(verifier.verify("not.a.jwt"), Err(TokenError::Malformed));
        assert_eq!(verifier.verify(""), Err(TokenError::Malformed));
    }

    /// A token issued in the future, not valid before a time to come, or living longer
    /// than any Roster issues is refused, whoever signed it.
    #[test]
    fn tokens_from_the_future_or_for_ever_are_refused() {
        let key = SigningKey::generate().unwrap();
        let verifier = Verifier::new();
        verifier.trust(key.public_jwk()).unwrap();
        let mut ahead = claims(Duration::minutes(5));
        ahead.iat += 3600;
        assert_eq!(
            verifier.verify(&key.sign(&ahead).unwrap()),
            Err(TokenError::Invalid)
        );
        let mut for_ever = claims(Duration::minutes(5));
        for_ever.exp = for_ever.iat + 10 * 365 * 86_400;
        assert_eq!(
            verifier.verify(&key.sign(&for_ever).unwrap()),
            Err(TokenError::Invalid)
        );
        // A `nbf` to come, beside the claims Roster writes.
        #[derive(serde::Serialize)]
        struct NotBefore {
            #[serde(flatten)]
            claims: Claims,
            nbf: i64,
        }
        let later = NotBefore {
            claims: claims(Duration::minutes(5)),
            nbf: OffsetDateTime::now_utc().unix_timestamp() + 3600,
        };
        let encoding = &key.encoding;
        let header = jsonwebtoken::Header {
            kid: Some(key.kid().to_owned()),
            ..jsonwebtoken::Header::new(Algorithm::EdDSA)
        };
        let token = jsonwebtoken::encode(&header, &later, encoding).unwrap();
        assert_eq!(verifier.verify(&token), Err(TokenError::Invalid));
        assert!(
            verifier
                .verify(&key.sign(&claims(Duration::minutes(5))).unwrap())
                .is_ok()
        );
    }

    #[test]
    fn a_revoked_session_is_refused_even_when_cached() {
        let key = SigningKey::generate().unwrap();
        let verifier = Verifier::with_cache(8);
        verifier.trust(key.public_jwk()).unwrap();
        let claims = claims(Duration::minutes(15));
        let token = key.sign(&claims).unwrap();
        assert!(verifier.verify(&token).is_ok());
        verifier.revoke(claims.sid, claims.exp);
        assert_eq!(verifier.verify(&token), Err(TokenError::Revoked));
        verifier.set_revoked(&[]);
        assert!(verifier.verify(&token).is_ok());
    }

    #[test]
    fn unpublishing_a_key_refuses_its_cached_tokens() {
        let key = SigningKey::generate().unwrap();
        let verifier = Verifier::with_cache(8);
        verifier
            .set_keys(&JwkSet {
                keys: vec![key.public_jwk().clone()],
            })
            .unwrap();
        let token = key.sign(&claims(Duration::minutes(15))).unwrap();
        assert!(verifier.verify(&token).is_ok());
        verifier.set_keys(&JwkSet { keys: vec![] }).unwrap();
        assert_eq!(verifier.verify(&token), Err(TokenError::UnknownKey));
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let key = SigningKey::generate().unwrap();
        let verifier = Verifier::with_cache(2);
        verifier.trust(key.public_jwk()).unwrap();
        for _ in 0..5 {
            let token = key.sign(&claims(Duration::minutes(15))).unwrap();
            assert!(verifier.verify(&token).is_ok());
        }
        assert!(verifier.inner.cache.read().unwrap().len() <= 2);
    }

    #[test]
    fn a_stored_key_signs_as_the_original() {
        let key = SigningKey::generate().unwrap();
        let stored = SigningKey::from_pkcs8_der(key.kid().to_owned(), key.pkcs8_der()).unwrap();
        assert_eq!(stored.public_jwk(), key.public_jwk());
        let verifier = Verifier::new();
        verifier.trust(key.public_jwk()).unwrap();
        assert!(
            verifier
                .verify(&stored.sign(&claims(Duration::minutes(1))).unwrap())
                .is_ok()
        );
    }

    #[test]
    fn the_signing_key_never_prints() {
        let key = SigningKey::generate().unwrap();
        let printed = format!("{key:?}");
        assert!(printed.contains(key.kid()));
        assert!(!printed.contains("encoding"));
    }
}
