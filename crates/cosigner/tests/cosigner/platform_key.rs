//! The platform key file: creation, permissions, reload and wrong passphrase.

use amphora_core::Network;
use amphora_cosigner::{CosignerError, PlatformKey};

#[test]
fn creates_key_file_with_mode_0600_and_reloads_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/platform-key.json");
    let created = PlatformKey::load_or_create(&path, "correct horse", Network::LiquidRegtest)
        .expect("create");
    assert!(path.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let reloaded = PlatformKey::load_or_create(&path, "correct horse", Network::LiquidRegtest)
        .expect("reload");
    assert_eq!(created.xpub_info(), reloaded.xpub_info());
    assert_eq!(created.master_xpub_info(), reloaded.master_xpub_info());

    // No temporary files are left behind, and the file holds no plaintext key material.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"argon2id\""));
    assert!(!text.contains("prv"));
}

#[test]
fn two_platforms_get_different_keys() {
    let dir = tempfile::tempdir().unwrap();
    let a =
        PlatformKey::load_or_create(&dir.path().join("a"), "pw", Network::LiquidRegtest).unwrap();
    let b =
        PlatformKey::load_or_create(&dir.path().join("b"), "pw", Network::LiquidRegtest).unwrap();
    assert_ne!(a.fingerprint(), b.fingerprint());
}

#[test]
fn wrong_passphrase_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    PlatformKey::load_or_create(&path, "right", Network::LiquidTestnet).unwrap();
    let err = PlatformKey::load_or_create(&path, "wrong", Network::LiquidTestnet).unwrap_err();
    assert!(
        matches!(err, CosignerError::WrongPassphrase { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    assert!(!err.to_string().contains("right"));
}

#[test]
fn empty_passphrase_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        PlatformKey::load_or_create(&dir.path().join("k"), "", Network::LiquidRegtest).unwrap_err();
    assert!(matches!(err, CosignerError::EmptyPassphrase));
    assert!(!dir.path().join("k").exists());
}

#[test]
fn key_file_of_another_network_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    PlatformKey::load_or_create(&path, "pw", Network::LiquidRegtest).unwrap();
    let err = PlatformKey::load_or_create(&path, "pw", Network::LiquidV1).unwrap_err();
    assert!(
        matches!(err, CosignerError::NetworkMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn tampered_header_fails_to_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    PlatformKey::load_or_create(&path, "pw", Network::LiquidRegtest).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["fingerprint"] = "00000000".into();
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let err = PlatformKey::load_or_create(&path, "pw", Network::LiquidRegtest).unwrap_err();
    assert!(
        matches!(err, CosignerError::WrongPassphrase { .. }),
        "{err:?}"
    );
}

#[test]
fn garbage_key_file_is_reported_as_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    write_private(&path, b"not json");
    let err = PlatformKey::load_or_create(&path, "pw", Network::LiquidRegtest).unwrap_err();
    assert!(
        matches!(err, CosignerError::InvalidKeyFile { .. }),
        "{err:?}"
    );
}

#[cfg(unix)]
#[test]
fn world_readable_key_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    PlatformKey::load_or_create(&path, "pw", Network::LiquidRegtest).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = PlatformKey::load_or_create(&path, "pw", Network::LiquidRegtest).unwrap_err();
    assert!(
        matches!(err, CosignerError::InsecurePermissions { mode: 0o644, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("chmod 600"));
}

fn write_private(path: &std::path::Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}
