//! Secret generation and hashing for API tokens and SDK credentials. Secrets are stored
//! as SHA-256 only; what is shown later is a hint (the last four characters).

use sha2::{Digest, Sha256};

/// Prefix of API tokens, so leaked ones are easy to recognise and scan for.
pub const API_TOKEN_PREFIX: &str = "vexil-api-";
/// Prefix of server-side SDK keys, as LaunchDarkly's (`sdk-<uuid>`).
pub const SDK_KEY_PREFIX: &str = "sdk-";
/// Prefix of mobile keys, as LaunchDarkly's (`mob-<uuid>`).
pub const MOBILE_KEY_PREFIX: &str = "mob-";

/// SHA-256 of the secret's UTF-8 bytes.
pub fn sha256(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The last four characters, for lists and logs.
pub fn hint(secret: &str) -> String {
    let start = secret.len().saturating_sub(4);
    secret.get(start..).unwrap_or_default().to_owned()
}

/// A new API token: the prefix and 32 random bytes in hex.
pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", hex::encode(random_bytes::<32>()))
}

/// A new SDK key (`server`) or mobile key (`mobile`), LaunchDarkly-shaped.
pub fn new_sdk_key(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4())
}

/// A new client-side ID: 24 hex characters, like LaunchDarkly's environment ids.
pub fn new_client_side_id() -> String {
    hex::encode(random_bytes::<12>())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_and_well_formed() {
        let token = new_api_token();
        assert!(token.starts_with(API_TOKEN_PREFIX));
        assert_eq!(token.len(), API_TOKEN_PREFIX.len() + 64);
        assert_ne!(token, new_api_token());
        assert_eq!(new_sdk_key(SDK_KEY_PREFIX).len(), 4 + 36);
        assert_eq!(new_client_side_id().len(), 24);
    }

    #[test]
    fn hint_is_the_tail() {
        assert_eq!(hint("sdk-1234abcd"), "abcd");
        assert_eq!(hint("ab"), "ab");
    }
}
