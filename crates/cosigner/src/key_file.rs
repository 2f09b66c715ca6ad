//! The encrypted on-disk form of the platform's master secret.
//!
//! The file is JSON:
//!
//! ```json
//! {
//!   "format": "amphora-platform-key",
//!   "version": 1,
//!   "network": "liquidregtest",
//!   "fingerprint": "1a2b3c4d",
//!   "kdf": {"algorithm": "argon2id", "m_cost_kib": 19456, "t_cost": 2, "p_cost": 1, "salt": "<hex 16>"},
//!   "cipher": {"algorithm": "aes-256-gcm", "nonce": "<hex 12>"},
//!   "ciphertext": "<hex>"
//! }
//! ```
//!
//! The plaintext is the 32-byte BIP39 entropy of the master seed (the key is the BIP32 master of
//! the 24-word mnemonic with an empty BIP39 passphrase). The AES key is Argon2id(passphrase, salt)
//! and everything except the ciphertext is bound to it as associated data, so a file whose network,
//! fingerprint or KDF parameters were edited fails to decrypt. The file is written atomically with
//! mode 0600 and never replaces an existing key.

use std::fs;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use amphora_core::Network;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::CosignerError;

const FORMAT: &str = "amphora-platform-key";
const VERSION: u32 = 1;
const KDF_ALGORITHM: &str = "argon2id";
const CIPHER_ALGORITHM: &str = "aes-256-gcm";

/// Argon2id memory cost (KiB) for new files: the OWASP recommendation (19 MiB, 2 passes).
const DEFAULT_M_COST_KIB: u32 = 19 * 1024;
const DEFAULT_T_COST: u32 = 2;
const DEFAULT_P_COST: u32 = 1;
/// Upper bounds accepted when reading a file, so a tampered file cannot make start-up hang.
const MAX_M_COST_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;

/// Length of the secret stored in the file (BIP39 entropy of a 24-word mnemonic).
pub(crate) const SECRET_LEN: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    format: String,
    version: u32,
    network: Network,
    fingerprint: String,
    kdf: KdfParams,
    cipher: CipherParams,
    ciphertext: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct KdfParams {
    algorithm: String,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct CipherParams {
    algorithm: String,
    nonce: String,
}

impl KeyFile {
    /// The associated data: every header field, in a fixed order.
    fn aad(&self) -> Vec<u8> {
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            self.format,
            self.version,
            self.network,
            self.fingerprint,
            self.kdf.algorithm,
            self.kdf.m_cost_kib,
            self.kdf.t_cost,
            self.kdf.p_cost,
            self.kdf.salt,
            self.cipher.algorithm,
            self.cipher.nonce
        )
        .into_bytes()
    }
}

/// What a successfully decrypted key file holds.
pub(crate) struct Decrypted {
    pub(crate) secret: [u8; SECRET_LEN],
    pub(crate) fingerprint: String,
}

fn derive_key(
    passphrase: &str,
    salt: &[u8],
    kdf: &KdfParams,
    path: &Path,
) -> Result<[u8; 32], CosignerError> {
    let invalid = |reason: String| CosignerError::InvalidKeyFile {
        path: path.to_path_buf(),
        reason,
    };
    let params = argon2::Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(32))
        .map_err(|e| invalid(format!("bad argon2 parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; 32];
    argon
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| invalid(format!("key derivation failed: {e}")))?;
    Ok(key)
}

/// Encrypts `secret` and writes a new key file at `path`, atomically and with mode 0600.
///
/// Fails with [`CosignerError::KeyFileExists`] if a file appeared at `path` meanwhile.
pub(crate) fn write_new(
    path: &Path,
    passphrase: &str,
    network: Network,
    fingerprint: &str,
    secret: &[u8; SECRET_LEN],
) -> Result<(), CosignerError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let mut file = KeyFile {
        format: FORMAT.to_string(),
        version: VERSION,
        network,
        fingerprint: fingerprint.to_string(),
        kdf: KdfParams {
            algorithm: KDF_ALGORITHM.to_string(),
            m_cost_kib: DEFAULT_M_COST_KIB,
            t_cost: DEFAULT_T_COST,
            p_cost: DEFAULT_P_COST,
            salt: hex::encode(salt),
        },
        cipher: CipherParams {
            algorithm: CIPHER_ALGORITHM.to_string(),
            nonce: hex::encode(nonce),
        },
        ciphertext: String::new(),
    };
    let key = derive_key(passphrase, &salt, &file.kdf, path)?;
    let cipher = Aes256Gcm::new_from_slice(&key).expect("32-byte key");
    let aad = file.aad();
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: &aad,
            },
        )
        .map_err(|_| CosignerError::Crypto("AES-GCM encryption failed".to_string()))?;
    file.ciphertext = hex::encode(ciphertext);
    let json = serde_json::to_vec_pretty(&file).expect("key file serialises");
    write_atomically_no_clobber(path, &json)
}

/// Reads and decrypts the key file at `path`.
pub(crate) fn read(
    path: &Path,
    passphrase: &str,
    network: Network,
) -> Result<Decrypted, CosignerError> {
    check_permissions(path)?;
    let bytes = fs::read(path).map_err(|source| CosignerError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |reason: String| CosignerError::InvalidKeyFile {
        path: path.to_path_buf(),
        reason,
    };
    let file: KeyFile = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("not a platform key file: {e}")))?;
    if file.format != FORMAT {
        return Err(invalid(format!("unknown format '{}'", file.format)));
    }
    if file.version != VERSION {
        return Err(invalid(format!("unsupported version {}", file.version)));
    }
    if file.kdf.algorithm != KDF_ALGORITHM || file.cipher.algorithm != CIPHER_ALGORITHM {
        return Err(invalid(format!(
            "unsupported algorithms {} / {}",
            file.kdf.algorithm, file.cipher.algorithm
        )));
    }
    if file.kdf.m_cost_kib > MAX_M_COST_KIB
        || file.kdf.t_cost > MAX_T_COST
        || file.kdf.p_cost > MAX_P_COST
    {
        return Err(invalid("argon2 parameters are out of range".to_string()));
    }
    if file.network != network {
        return Err(CosignerError::NetworkMismatch {
            path: path.to_path_buf(),
            file: file.network,
            configured: network,
        });
    }
    let salt = hex::decode(&file.kdf.salt).map_err(|_| invalid("bad salt".to_string()))?;
    let nonce = hex::decode(&file.cipher.nonce).map_err(|_| invalid("bad nonce".to_string()))?;
    if nonce.len() != 12 {
        return Err(invalid("nonce must be 12 bytes".to_string()));
    }
    let ciphertext =
        hex::decode(&file.ciphertext).map_err(|_| invalid("bad ciphertext".to_string()))?;
    let key = derive_key(passphrase, &salt, &file.kdf, path)?;
    let cipher = Aes256Gcm::new_from_slice(&key).expect("32-byte key");
    let aad = file.aad();
    let plaintext = cipher
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| CosignerError::WrongPassphrase {
            path: path.to_path_buf(),
        })?;
    let secret: [u8; SECRET_LEN] = plaintext
        .as_slice()
        .try_into()
        .map_err(|_| invalid(format!("secret has {} bytes", plaintext.len())))?;
    Ok(Decrypted {
        secret,
        fingerprint: file.fingerprint,
    })
}

/// Refuses key files other users can read or write.
#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), CosignerError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(path).map_err(|source| CosignerError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CosignerError::InsecurePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), CosignerError> {
    Ok(())
}

/// Writes `bytes` to a temporary file next to `path` (mode 0600, fsynced), then links it into
/// place only if `path` does not exist yet, so a concurrent start-up can never overwrite a key.
fn write_atomically_no_clobber(path: &Path, bytes: &[u8]) -> Result<(), CosignerError> {
    let io = |source: std::io::Error| CosignerError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(io)?;
    let file_name = path
        .file_name()
        .ok_or_else(|| CosignerError::InvalidKeyFile {
            path: path.to_path_buf(),
            reason: "the key file path has no file name".to_string(),
        })?;
    let mut suffix = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut suffix);
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        hex::encode(suffix)
    ));
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(CosignerError::KeyFileExists {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(io(e)),
    }
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
