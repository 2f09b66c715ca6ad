//! GAID: the account id ("AMP ID") Amphora assigns to each registered AMP2 wallet.
//!
//! Blockstream's GAIDs are opaque ids assigned by the Green backend and carry no public checksum.
//! Amphora assigns its own, in the same outward form (`GA` followed by 27–28 base58 characters),
//! but self-checking, so a mistyped GAID is rejected offline before any lookup.
//!
//! # Format (version 1)
//!
//! ```text
//! gaid     = "GA" || base58(id || checksum)          (Bitcoin base58 alphabet)
//! id       = 16 bytes
//! checksum = SHA256("amphora/gaid/checksum/v1" || 0x00 || id)[0..4]
//! ```
//!
//! The 20-byte payload encodes to at most 28 base58 characters, so GAIDs are at most 30 characters
//! long; almost all are 29–30 (about 1 in 100 is shorter: small leading values encode shorter).
//! The id of a registered wallet is derived from its canonical descriptor string:
//!
//! ```text
//! id = SHA256("amphora/gaid/id/v1" || 0x00 || descriptor)[0..16]
//! ```
//!
//! A 4-byte checksum makes an undetected random typo a 1-in-4-billion event; a single-character
//! substitution changes the decoded number and therefore the payload, and is caught unless the
//! changed payload happens to carry a matching checksum (probability 2^-32).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// The human-readable prefix every GAID starts with.
pub const GAID_PREFIX: &str = "GA";
/// Length in bytes of the id carried by a GAID.
pub const GAID_ID_LEN: usize = 16;
/// Length in bytes of the checksum appended to the id.
pub const GAID_CHECKSUM_LEN: usize = 4;
/// The form of a GAID (anchored regex): `GA` and the base58 of 20 bytes (20 to 28 characters).
/// [`Gaid::parse`] also checks the checksum, which no regex states.
pub const GAID_PATTERN: &str = "^GA[1-9A-HJ-NP-Za-km-z]{20,28}$";

const ID_TAG: &[u8] = b"amphora/gaid/id/v1\0";
const CHECKSUM_TAG: &[u8] = b"amphora/gaid/checksum/v1\0";

/// Why a string is not a valid GAID. The messages are meant for end users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GaidError {
    /// The input was empty.
    #[error("GAID is empty")]
    Empty,
    /// The input does not start with `GA`.
    #[error("GAID must start with GA")]
    MissingPrefix,
    /// A character outside the base58 alphabet (no `0`, `O`, `I`, `l`).
    #[error("GAID contains an invalid character '{character}' at position {position} (base58 has no 0, O, I or l)")]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its 0-based position in the whole GAID string.
        position: usize,
    },
    /// The base58 part does not decode to the 20 bytes a GAID carries.
    #[error("GAID has the wrong length (it decodes to {decoded} bytes, expected 20): a character is missing or extra")]
    WrongLength {
        /// How many bytes the base58 part decoded to.
        decoded: usize,
    },
    /// The checksum does not match the id: the GAID was mistyped.
    #[error("GAID checksum mismatch (typo?)")]
    ChecksumMismatch,
}

/// A validated GAID. Construct with [`Gaid::parse`], [`Gaid::from_descriptor`] or
/// [`Gaid::from_id`]; serialises as its string form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gaid {
    text: String,
    id: [u8; GAID_ID_LEN],
}

impl Gaid {
    /// Parses and validates a GAID (prefix, base58 alphabet, length and checksum).
    pub fn parse(s: &str) -> Result<Gaid, GaidError> {
        if s.is_empty() {
            return Err(GaidError::Empty);
        }
        let Some(body) = s.strip_prefix(GAID_PREFIX) else {
            return Err(GaidError::MissingPrefix);
        };
        let payload = bs58::decode(body).into_vec().map_err(|e| match e {
            bs58::decode::Error::InvalidCharacter { character, index } => {
                GaidError::InvalidCharacter {
                    character,
                    position: index + GAID_PREFIX.len(),
                }
            }
            // The remaining variants concern output buffers we do not use.
            _ => GaidError::WrongLength { decoded: 0 },
        })?;
        if payload.len() != GAID_ID_LEN + GAID_CHECKSUM_LEN {
            return Err(GaidError::WrongLength {
                decoded: payload.len(),
            });
        }
        let mut id = [0u8; GAID_ID_LEN];
        id.copy_from_slice(&payload[..GAID_ID_LEN]);
        if payload[GAID_ID_LEN..] != checksum(&id) {
            return Err(GaidError::ChecksumMismatch);
        }
        let gaid = Gaid::from_id(id);
        // base58 has exactly one encoding per byte string, so this only differs if the input
        // used a non-canonical form, which bs58 does not accept.
        debug_assert_eq!(gaid.text, s);
        Ok(gaid)
    }

    /// The GAID of the wallet with this canonical descriptor string.
    ///
    /// Callers must pass the canonical form (e.g. `WolletDescriptor::to_string()`, with its
    /// checksum) so that the same wallet always gets the same GAID.
    pub fn from_descriptor(descriptor: &str) -> Gaid {
        let digest = Sha256::new()
            .chain_update(ID_TAG)
            .chain_update(descriptor.as_bytes())
            .finalize();
        let mut id = [0u8; GAID_ID_LEN];
        id.copy_from_slice(&digest[..GAID_ID_LEN]);
        Gaid::from_id(id)
    }

    /// The GAID carrying this 16-byte id.
    pub fn from_id(id: [u8; GAID_ID_LEN]) -> Gaid {
        let mut payload = [0u8; GAID_ID_LEN + GAID_CHECKSUM_LEN];
        payload[..GAID_ID_LEN].copy_from_slice(&id);
        payload[GAID_ID_LEN..].copy_from_slice(&checksum(&id));
        let text = format!("{GAID_PREFIX}{}", bs58::encode(payload).into_string());
        Gaid { text, id }
    }

    /// The GAID as a string (`GA…`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The 16-byte id the GAID carries.
    pub fn id(&self) -> [u8; GAID_ID_LEN] {
        self.id
    }
}

fn checksum(id: &[u8; GAID_ID_LEN]) -> [u8; GAID_CHECKSUM_LEN] {
    let digest = Sha256::new()
        .chain_update(CHECKSUM_TAG)
        .chain_update(id)
        .finalize();
    let mut out = [0u8; GAID_CHECKSUM_LEN];
    out.copy_from_slice(&digest[..GAID_CHECKSUM_LEN]);
    out
}

impl fmt::Display for Gaid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Gaid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gaid({})", self.text)
    }
}

impl FromStr for Gaid {
    type Err = GaidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Gaid::parse(s)
    }
}

impl AsRef<str> for Gaid {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl serde::Serialize for Gaid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Gaid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Gaid::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALPHABET: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    fn sample() -> Gaid {
        Gaid::from_descriptor("ct(00,elwsh(multi(2,a,b)))#example")
    }

    /// Vectors computed independently (Python hashlib + a hand-written base58 encoder).
    #[test]
    fn known_vectors_are_pinned() {
        let zero = Gaid::from_id([0u8; 16]);
        assert_eq!(zero.as_str(), "GA11111111111111116sryZJ");
        let gaid = Gaid::from_id(*b"amphora-gaid-v1!");
        assert_eq!(gaid.as_str(), "GA2Mj48huNyhy9G81kvxr7sQFCecDD");
        assert_eq!(sample().as_str(), "GAqaGb4bGqDANiPMrB64JPAyhdxia");
    }

    #[test]
    fn round_trips_through_string_display_and_serde() {
        let gaid = sample();
        assert_eq!(Gaid::parse(gaid.as_str()).unwrap(), gaid);
        assert_eq!(gaid.to_string().parse::<Gaid>().unwrap(), gaid);
        let json = serde_json::to_string(&gaid).unwrap();
        assert_eq!(json, format!("\"{}\"", gaid.as_str()));
        assert_eq!(serde_json::from_str::<Gaid>(&json).unwrap(), gaid);
        assert!(serde_json::from_str::<Gaid>("\"GAxyz\"").is_err());
        assert_eq!(Gaid::from_id(gaid.id()), gaid);
    }

    #[test]
    fn typical_gaids_have_real_world_length() {
        for i in 0..200u32 {
            let gaid = Gaid::from_descriptor(&format!("descriptor {i}"));
            let len = gaid.as_str().len();
            assert!((28..=30).contains(&len), "{gaid} has length {len}");
        }
    }

    #[test]
    fn different_descriptors_get_different_gaids() {
        assert_ne!(Gaid::from_descriptor("a"), Gaid::from_descriptor("b"));
    }

    #[test]
    fn every_single_character_substitution_is_caught() {
        for seed in 0..5 {
            let gaid = Gaid::from_descriptor(&format!("wallet {seed}"));
            let text = gaid.as_str();
            for pos in 2..text.len() {
                for c in ALPHABET.chars() {
                    if text.as_bytes()[pos] as char == c {
                        continue;
                    }
                    let mut typo = text.to_string();
                    typo.replace_range(pos..pos + 1, &c.to_string());
                    let err = Gaid::parse(&typo).unwrap_err();
                    assert!(
                        matches!(
                            err,
                            GaidError::ChecksumMismatch | GaidError::WrongLength { .. }
                        ),
                        "{typo}: {err:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn transpositions_and_dropped_characters_are_caught() {
        let text = sample().as_str().to_string();
        for pos in 2..text.len() - 1 {
            let mut chars: Vec<char> = text.chars().collect();
            if chars[pos] == chars[pos + 1] {
                continue;
            }
            chars.swap(pos, pos + 1);
            let swapped: String = chars.into_iter().collect();
            assert!(Gaid::parse(&swapped).is_err(), "{swapped}");
            let mut dropped = text.clone();
            dropped.remove(pos);
            assert!(Gaid::parse(&dropped).is_err(), "{dropped}");
        }
    }

    #[test]
    fn bad_inputs_get_clear_errors() {
        let good = sample().to_string();
        assert_eq!(Gaid::parse(""), Err(GaidError::Empty));
        assert_eq!(Gaid::parse(&good[2..]), Err(GaidError::MissingPrefix));
        assert_eq!(
            Gaid::parse(&good.to_lowercase()),
            Err(GaidError::MissingPrefix)
        );
        let with_zero = format!("{}0{}", &good[..5], &good[6..]);
        assert_eq!(
            Gaid::parse(&with_zero),
            Err(GaidError::InvalidCharacter {
                character: '0',
                position: 5
            })
        );
        assert!(matches!(
            Gaid::parse("GA"),
            Err(GaidError::WrongLength { decoded: 0 })
        ));
        assert!(matches!(
            Gaid::parse(&format!("{good}x")),
            Err(GaidError::WrongLength { .. })
        ));
        assert_eq!(
            GaidError::ChecksumMismatch.to_string(),
            "GAID checksum mismatch (typo?)"
        );
        assert_eq!(
            GaidError::MissingPrefix.to_string(),
            "GAID must start with GA"
        );
        assert!(Gaid::parse(&format!(" {good}")).is_err());
    }
}
