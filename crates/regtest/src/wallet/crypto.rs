//! Passphrase encryption of a wallet's HD seeds (Argon2id key derivation, AES-256-GCM).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};

/// The seeds of an encrypted wallet as stored on disk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EncryptedBlob {
    /// Argon2 salt, hex.
    pub salt: String,
    /// AES-GCM nonce, hex.
    pub nonce: String,
    /// AES-GCM ciphertext with tag, hex.
    pub ciphertext: String,
}

/// Why a blob could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Wrong passphrase (or tampered data): authentication failed.
    #[error("the wallet passphrase entered was incorrect")]
    WrongPassphrase,
    /// The stored blob is not valid hex or has wrong lengths.
    #[error("corrupt encrypted wallet data: {0}")]
    Corrupt(&'static str),
}

fn derive_key(passphrase: &str, salt: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    argon2::Argon2::default()
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .expect("argon2 accepts a 16-byte salt and a 32-byte output");
    key
}

/// Encrypts `plaintext` under `passphrase`.
pub fn seal(passphrase: &str, plaintext: &[u8]) -> EncryptedBlob {
    let salt: [u8; 16] = rand::random();
    let nonce: [u8; 12] = rand::random();
    let key = derive_key(passphrase, &salt);
    let cipher = Aes256Gcm::new_from_slice(&key).expect("32-byte key");
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), plaintext)
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    EncryptedBlob {
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    }
}

/// Decrypts a blob made by [`seal`].
pub fn open(passphrase: &str, blob: &EncryptedBlob) -> Result<Vec<u8>, CryptoError> {
    let salt = hex::decode(&blob.salt).map_err(|_| CryptoError::Corrupt("salt"))?;
    let nonce = hex::decode(&blob.nonce).map_err(|_| CryptoError::Corrupt("nonce"))?;
    let ciphertext =
        hex::decode(&blob.ciphertext).map_err(|_| CryptoError::Corrupt("ciphertext"))?;
    if nonce.len() != 12 || salt.len() < 8 {
        return Err(CryptoError::Corrupt("lengths"));
    }
    let key = derive_key(passphrase, &salt);
    let cipher = Aes256Gcm::new_from_slice(&key).expect("32-byte key");
    cipher
        .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
        .map_err(|_| CryptoError::WrongPassphrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_rejects_wrong_passphrase() {
        let blob = seal("secret", b"seed bytes");
        assert_eq!(open("secret", &blob).unwrap(), b"seed bytes");
        assert_eq!(open("wrong", &blob), Err(CryptoError::WrongPassphrase));
        let mut tampered = blob.clone();
        tampered.nonce = "zz".into();
        assert_eq!(
            open("secret", &tampered),
            Err(CryptoError::Corrupt("nonce"))
        );
    }
}
