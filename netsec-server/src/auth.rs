//! Credentials: argon2id password hashes, signed access and refresh tokens (JWT, HS256), and
//! long-lived API tokens (random, shown once, stored as SHA-256).
//!
//! Nothing here logs a secret: passwords, tokens and the signing key never reach a log line.

use std::io::Write;
use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::role::Role;

/// What an access or refresh token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Calls the API (short-lived).
    Access,
    /// Gets a new access token (longer-lived); refused everywhere else.
    Refresh,
}

/// The claims of a signed token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id (as text, as JWT's `sub` is a string).
    pub sub: String,
    /// The user's name.
    pub name: String,
    /// The role when issued (the current role is read from the store on each request).
    pub role: Role,
    /// Access or refresh.
    pub kind: TokenKind,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
}

/// Why credentials failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The signing key file could not be read or written.
    #[error("token key {path}: {source}")]
    Key {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The key file is not 32 to 1024 bytes.
    #[error("token key {0}: must hold 32 to 1024 bytes")]
    KeyLength(String),
    /// Hashing failed (argon2's own error, never the password).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A token could not be signed.
    #[error("token signing failed: {0}")]
    Sign(String),
}

/// The key that signs and checks access and refresh tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys from secret bytes.
    pub fn from_secret(secret: &[u8]) -> TokenKeys {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// Reads the key at `path`, creating a random one (mode 0600) when there is none.
    ///
    /// # Errors
    /// [`AuthError::Key`] or [`AuthError::KeyLength`].
    pub fn load_or_create(path: &Path) -> Result<TokenKeys, AuthError> {
        let err = |source| AuthError::Key {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read(path) {
            Ok(bytes) if (32..=1024).contains(&bytes.len()) => Ok(Self::from_secret(&bytes)),
            Ok(_) => Err(AuthError::KeyLength(path.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 64];
                rand::rngs::OsRng.fill_bytes(&mut secret);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(err)?;
                file.write_all(&secret).map_err(err)?;
                file.sync_all().map_err(err)?;
                Ok(Self::from_secret(&secret))
            }
            Err(e) => Err(err(e)),
        }
    }

    /// Signs `claims`.
    ///
    /// # Errors
    /// [`AuthError::Sign`].
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| AuthError::Sign(e.to_string()))
    }

    /// The claims of `token` when its signature is ours, it has not expired and it is of
    /// `kind`; `None` otherwise (tampered, expired, malformed or the wrong kind).
    pub fn verify(&self, token: &str, kind: TokenKind) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.validate_exp = true;
        v.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v).ok()?;
        (data.claims.kind == kind).then_some(data.claims)
    }
}

/// Seconds since the epoch, now.
pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Hashes a password with argon2id and a random salt (slow by design: call it off the
/// async threads).
///
/// # Errors
/// [`AuthError::Hash`].
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches `hash` (constant time within argon2).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Prefix of every API token, so they are told from signed tokens and found by secret
/// scanners.
pub const API_TOKEN_PREFIX: &str = "nst_";

/// A new API token: (the secret, shown once; its SHA-256 to store; a short prefix to show).
pub fn new_api_token() -> (String, String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{API_TOKEN_PREFIX}{}", hex(&bytes));
    let hash = token_hash(&secret);
    let prefix = secret.chars().take(API_TOKEN_PREFIX.len() + 6).collect();
    (secret, hash, prefix)
}

/// The stored form of an API token: its SHA-256 in hex (the token is random, so a fast hash
/// is enough; it is never compared in plain text).
pub fn token_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A random password for `init`: 20 characters from an unambiguous alphabet (~115 bits).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(kind: TokenKind, exp: u64) -> Claims {
        Claims {
            sub: "1".into(),
            name: "ana".into(),
            role: Role::Analyst,
            kind,
            iat: now_s(),
            exp,
        }
    }

    #[test]
    fn tokens_verify_only_when_untouched_current_and_of_the_right_kind() {
        let keys = TokenKeys::from_secret(&[7u8; 32]);
        let t = keys
            .sign(&claims(TokenKind::Access, now_s() + 60))
            .expect("signs");
        assert_eq!(
            keys.verify(&t, TokenKind::Access).map(|c| c.sub),
            Some("1".into())
        );
        assert!(keys.verify(&t, TokenKind::Refresh).is_none(), "wrong kind");
        let other = TokenKeys::from_secret(&[8u8; 32]);
        assert!(other.verify(&t, TokenKind::Access).is_none(), "another key");
        let mut tampered = t.clone().into_bytes();
        let at = tampered.len() - 5;
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(
            keys.verify(&tampered, TokenKind::Access).is_none(),
            "tampered"
        );
        let old = keys
            .sign(&claims(TokenKind::Access, now_s() - 1))
            .expect("signs");
        assert!(keys.verify(&old, TokenKind::Access).is_none(), "expired");
        assert!(keys.verify("garbage", TokenKind::Access).is_none());
    }

    #[test]
    fn passwords_and_api_tokens() {
        let h = hash_password("correct horse battery").expect("hashes");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        let (secret, hash, prefix) = new_api_token();
        assert!(secret.starts_with(API_TOKEN_PREFIX) && secret.len() == 68);
        assert_eq!(token_hash(&secret), hash);
        assert!(secret.starts_with(&prefix));
        assert_ne!(new_api_token().0, secret);
        assert_eq!(random_password().len(), 20);
    }

    #[test]
    fn the_key_file_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("netsec-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("token-key");
        let a = TokenKeys::load_or_create(&path).expect("creates");
        let t = a
            .sign(&claims(TokenKind::Access, now_s() + 60))
            .expect("signs");
        let b = TokenKeys::load_or_create(&path).expect("reads");
        assert!(
            b.verify(&t, TokenKind::Access).is_some(),
            "same key after reopening"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
