//! The `amphora` binary: zero-configuration start, graceful shutdown on SIGTERM, `migrate` and
//! `admin issuer …`.
//!
//! None of these goes through the chain: the zero-configuration start is about the embedded
//! node `amphora serve` starts by default, so it runs on it whatever `ELEMENTSD_EXE` says.

use crate::support::amphora;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[cfg(unix)]
#[test]
fn serve_starts_with_zero_configuration_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = amphora(dir.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--node-rpc-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.starts_with("Log in:");
        banner.push(line);
        if done {
            break;
        }
    }
    let banner = banner.join("\n");
    assert!(banner.contains("/api"), "{banner}");
    assert!(banner.contains("username: issuer"), "{banner}");
    let password = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .expect("the generated password is printed");
    assert!(password.len() >= 8);
    // the default data directory was created in the working directory
    assert!(dir.path().join("amphora-data/amphora.db").exists());
    assert!(dir.path().join("amphora-data/platform-key.json").exists());

    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "amphora serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn migrate_and_admin_issuer_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();

    let out = amphora(dir.path())
        .args(["migrate", "--data-dir", data])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = amphora(dir.path())
        .args([
            "admin",
            "--data-dir",
            data,
            "issuer",
            "add",
            "bank",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"bank password 1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("created issuer 'bank'"), "{stdout}");
    assert!(!stdout.contains("bank password 1"));

    let out = amphora(dir.path())
        .args(["admin", "--data-dir", data, "issuer", "add", "fund"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("password: "));

    let out = amphora(dir.path())
        .args(["admin", "--data-dir", data, "issuer", "add", "bank"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("already exists"));

    let out = amphora(dir.path())
        .args(["admin", "--data-dir", data, "issuer", "add", "bad name"])
        .output()
        .unwrap();
    assert!(!out.status.success());

    let out = amphora(dir.path())
        .args(["admin", "--data-dir", data, "issuer", "list"])
        .output()
        .unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(
        listing.contains("bank") && listing.contains("fund"),
        "{listing}"
    );

    let out = amphora(dir.path())
        .args([
            "admin",
            "--data-dir",
            data,
            "issuer",
            "set-password",
            "fund",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = amphora(dir.path())
        .args([
            "admin",
            "--data-dir",
            data,
            "issuer",
            "set-password",
            "nobody",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("no issuer named"));
}

#[test]
fn invalid_configuration_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = amphora(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("AMPHORA_TOKEN_LIFETIME_SECS", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("token_lifetime_secs"));
    let out = amphora(dir.path())
        .args(["serve", "--network", "bitcoin"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = amphora(dir.path())
        .args([
            "serve",
            "--database-url",
            "mysql://localhost/x",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("unsupported database URL"));
}

#[test]
fn liquidv1_requires_a_key_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let out = amphora(dir.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--network",
            "liquidv1",
            "--elements-url",
            "http://user:pass@127.0.0.1:1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("passphrase must be configured"));
    // the failed start created no issuer whose generated password nobody saw
    let out = amphora(dir.path())
        .args(["admin", "issuer", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8(out.stdout).unwrap().contains("issuer "));
}
