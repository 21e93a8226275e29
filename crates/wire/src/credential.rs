//! The key both ends of the API use: the client signs with it, the emulator verifies
//! with it. The secret half never reaches Debug output.

use std::fmt;

/// A secret that must never be printed. Debug shows only that it is there.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself: only the signer and the emulator's verifier call this.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A SecretId shown to a person: first 4 and last 4 characters.
pub fn mask_secret_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "****".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub secret_id: String,
    pub secret_key: Secret,
    pub token: Option<Secret>,
}

impl Credential {
    /// Reject what Tencent's SDK rejects: empty or space-padded values.
    pub fn new(
        secret_id: &str,
        secret_key: &str,
        token: Option<&str>,
    ) -> Result<Self, &'static str> {
        let bad = |s: &str| s.is_empty() || s.trim() != s;
        if bad(secret_id) {
            return Err("the SecretId is empty or has surrounding spaces");
        }
        if bad(secret_key) {
            return Err("the SecretKey is empty or has surrounding spaces");
        }
        let token = token.filter(|t| !t.is_empty());
        if token.is_some_and(|t| t.trim() != t) {
            return Err("the token has surrounding spaces");
        }
        // They travel in HTTP headers: visible ASCII only, or the request cannot be built.
        let header_safe = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
        if !header_safe(secret_id) {
            return Err(
                "the SecretId has characters a key never has (only visible ASCII is allowed)",
            );
        }
        if !header_safe(secret_key) {
            return Err(
                "the SecretKey has characters a key never has (only visible ASCII is allowed)",
            );
        }
        if token.is_some_and(|t| !header_safe(t)) {
            return Err(
                "the token has characters a token never has (only visible ASCII is allowed)",
            );
        }
        Ok(Credential {
            secret_id: secret_id.to_string(),
            secret_key: Secret::new(secret_key),
            token: token.map(Secret::new),
        })
    }

    pub fn masked_id(&self) -> String {
        mask_secret_id(&self.secret_id)
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("secret_id", &self.masked_id())
            .field("secret_key", &self.secret_key)
            .field("token", &self.token)
            .finish()
    }
}
