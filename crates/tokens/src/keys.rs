use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};

use crate::{Claims, ISSUER, TokenError};

/// An Ed25519 private key that signs access tokens. Prints only its key id.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
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
        let kid = uuid::Uuid::now_v7().simple().to_string();
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
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            public,
        })
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

/// Verifies access tokens against a set of public keys, locally. Clones share the keys,
/// so [`Verifier::set_keys`] reaches every clone at once.
#[derive(Clone)]
pub struct Verifier {
    keys: Arc<RwLock<Arc<HashMap<String, DecodingKey>>>>,
    validation: Arc<Validation>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<String> = self.current().keys().cloned().collect();
        f.debug_struct("Verifier").field("kids", &kids).finish()
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A verifier that knows no key yet, and so refuses every token.
    pub fn new() -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Self {
            keys: Arc::default(),
            validation: Arc::new(validation),
        }
    }

    /// Replaces the trusted keys. Keys that are not Ed25519 signing keys are refused.
    pub fn set_keys(&self, set: &JwkSet) -> Result<(), TokenError> {
        let keys = set
            .keys
            .iter()
            .map(decoding_key)
            .collect::<Result<_, _>>()?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        Ok(())
    }

    /// Adds one key beside the ones already trusted.
    pub fn trust(&self, jwk: &Jwk) -> Result<(), TokenError> {
        let (kid, key) = decoding_key(jwk)?;
        let mut guard = self.keys.write().unwrap_or_else(|e| e.into_inner());
        let mut keys = (**guard).clone();
        keys.insert(kid, key);
        *guard = Arc::new(keys);
        Ok(())
    }

    fn current(&self) -> Arc<HashMap<String, DecodingKey>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let keys = self.current();
        let key = keys.get(&kid).ok_or(TokenError::UnknownKey)?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) => {
                    TokenError::Malformed
                }
                _ => TokenError::Invalid,
            })
    }
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

    #[test]
    fn the_signing_key_never_prints() {
        let key = SigningKey::generate().unwrap();
        let printed = format!("{key:?}");
        assert!(printed.contains(key.kid()));
        assert!(!printed.contains("encoding"));
    }
}
