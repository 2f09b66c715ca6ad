//! Rewinding a Borromean range proof (the format of Elements' outputs) from the few challenges
//! the rewind needs, instead of from a full verification.
//!
//! libsecp256k1-zkp's `secp256k1_rangeproof_rewind` verifies the whole proof (every ring, an
//! EC multiplication per key: 104 for Elements' 52-bit proofs) and keeps every challenge, then
//! reads the prover's secrets back with the nonce the receiver shares. Of those challenges the
//! rewind uses only the ones at the real (not forged) keys of the rings that carry the value's
//! blinder and the message: here the last ring and the first. This module recomputes the
//! prover's random stream ([`crate::drbg`]), reads the value from the last ring, and computes
//! only the challenge chains up to those keys, following `rangeproof_impl.h` and
//! `borromean_impl.h` step by step.
//!
//! It checks nothing: a proof that does not verify may yield garbage. The caller
//! ([`crate::unblind`]) accepts what it yields only if it opens the output's commitments.

use std::cell::OnceCell;

use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, EncodedPoint, FieldBytes, FieldElement, ProjectivePoint, Scalar, U256};
use sha2::{Digest, Sha256};

use crate::drbg::Rfc6979;
use crate::RangeProofHeader;

/// What a rewind reads back: the value, its commitment's blinder and the first 64 bytes of the
/// message (Elements puts the asset id and the asset blinder there).
#[derive(Debug)]
pub(crate) struct Rewound {
    pub value: u64,
    pub blind: [u8; 32],
    pub message: [u8; 64],
}

/// A point serialized by its x and a first byte whose low bit says whether its y is the
/// negation of the square root of `x³ + 7` that is itself a square (`ge_set_xquad`): how
/// Pedersen commitments (0x08/0x09), generators (0x0a/0x0b) and a range proof's digit
/// commitments are stored.
fn xquad(x: &[u8], negated: bool) -> Option<ProjectivePoint> {
    let x = Option::<FieldElement>::from(FieldElement::from_bytes(FieldBytes::from_slice(x)))?;
    let seven = FieldElement::from_u64(7);
    // For p = 3 mod 4 the root `sqrt` computes, a power (p+1)/4 that is even, is a square.
    let y = Option::<FieldElement>::from((x.square() * x + seven).sqrt())?;
    let y = if negated { y.negate(1) } else { y }.normalize();
    let encoded = EncodedPoint::from_affine_coordinates(&x.to_bytes(), &y.to_bytes(), false);
    Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&encoded)).map(Into::into)
}

/// A scalar from 32 bytes that must be below the group order.
fn strict_scalar(bytes: &[u8]) -> Option<Scalar> {
    Option::from(Scalar::from_repr(*FieldBytes::from_slice(bytes)))
}

/// A scalar from 32 bytes reduced modulo the group order.
fn reduced_scalar(bytes: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(bytes))
}

fn xor32(into: &mut [u8; 32], with: &[u8; 32]) {
    for (a, b) in into.iter_mut().zip(with) {
        *a ^= b;
    }
}

/// `borromean_hash`: SHA256(e ‖ m ‖ ring ‖ position), ring and position 32-bit big-endian.
fn borromean_hash(e: &[u8], m: &[u8; 32], ring: usize, position: usize) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(e);
    hash.update(m);
    hash.update((ring as u32).to_be_bytes());
    hash.update((position as u32).to_be_bytes());
    hash.finalize().into()
}

/// A parsed proof with what the rewind derives from the nonce.
struct Proof<'a> {
    proof: &'a [u8],
    head: RangeProofHeader,
    commit: ProjectivePoint,
    generator: ProjectivePoint,
    rsizes: Vec<usize>,
    /// Offset of each digit commitment's x (rings but the last) and its sign.
    digits: Vec<(usize, bool)>,
    e0: &'a [u8],
    s: Vec<Scalar>,
    /// The message hash every challenge commits to.
    m: [u8; 32],
    /// The last ring's digit commitment, once computed.
    last_digit: OnceCell<Option<ProjectivePoint>>,
}

impl Proof<'_> {
    /// Index of the first key of `ring` among all the proof's keys.
    fn first_key(&self, ring: usize) -> usize {
        self.rsizes[..ring].iter().sum()
    }

    /// The digit commitment of `ring`, its first key. The last ring's is the output's
    /// commitment less the minimum value and the other digit commitments.
    fn digit(&self, ring: usize) -> Option<ProjectivePoint> {
        if ring < self.rsizes.len() - 1 {
            let (offset, negated) = self.digits[ring];
            return xquad(&self.proof[offset..offset + 32], negated);
        }
        *self.last_digit.get_or_init(|| {
            let mut acc = self.generator * Scalar::from(self.head.min_value);
            for &(offset, negated) in &self.digits {
                acc += xquad(&self.proof[offset..offset + 32], negated)?;
            }
            Some(self.commit - acc)
        })
    }

    /// What separates two keys of `ring` (`rangeproof_pub_expand`): 10^exp·4^ring times the
    /// generator; key j is the digit commitment less j such steps.
    fn step(&self, ring: usize) -> ProjectivePoint {
        let mut factor = Scalar::ONE;
        for _ in 0..self.head.exp.max(0) {
            factor *= Scalar::from(10u64);
        }
        for _ in 0..ring {
            factor *= Scalar::from(4u64);
        }
        self.generator * factor
    }

    /// The challenge at `position` of `ring` (`borromean_verify`'s `ens` there).
    fn challenge(&self, ring: usize, position: usize) -> Option<Scalar> {
        let mut e = strict_scalar(&borromean_hash(self.e0, &self.m, ring, 0))?;
        let first = self.first_key(ring);
        let (mut key, step) = if position > 0 {
            (self.digit(ring)?, self.step(ring))
        } else {
            (ProjectivePoint::IDENTITY, ProjectivePoint::IDENTITY)
        };
        for j in 0..position {
            let r = ProjectivePoint::GENERATOR * self.s[first + j] + key * e;
            key -= step;
            if r == ProjectivePoint::IDENTITY {
                return None;
            }
            let encoded = r.to_affine().to_encoded_point(true);
            e = strict_scalar(&borromean_hash(encoded.as_bytes(), &self.m, ring, j + 1))?;
        }
        (!bool::from(e.is_zero())).then_some(e)
    }
}

/// Rewinds `proof` of the value commitment `commit` (33 bytes, 0x08/0x09) under the asset
/// generator `generator` (33 bytes, 0x0a/0x0b), made with `extra` (the output's script) as
/// additional commitment and `nonce` (the shared secret): `secp256k1_rangeproof_rewind` with a
/// 64-byte message. `None` when the proof cannot be read or rewound this way.
pub(crate) fn rewind(
    commit: &[u8; 33],
    generator: &[u8; 33],
    proof: &[u8],
    extra: &[u8],
    nonce: &[u8; 32],
) -> Option<Rewound> {
    let head = RangeProofHeader::parse(proof)?;
    if head.mantissa == 0 {
        // a proof of a single key: a rewind recovers only its blinder
        return None;
    }
    let mut rsizes = vec![4usize; (head.mantissa >> 1) as usize];
    if head.mantissa & 1 == 1 {
        rsizes.push(2);
    }
    let rings = rsizes.len();
    let npub: usize = rsizes.iter().sum();
    let signs_len = (rings + 6) >> 3;
    if proof.len() - head.len < 32 * (npub + rings - 1) + 32 + signs_len {
        return None;
    }
    // Points serialized as `rangeproof_serialize_point` does: 0 or 1, then x.
    let serialized = |point: &[u8; 33]| {
        let mut out = *point;
        out[0] &= 1;
        out
    };
    let (commit_ser, generator_ser) = (serialized(commit), serialized(generator));
    let mut m = Sha256::new();
    m.update(commit_ser);
    m.update(generator_ser);
    m.update(&proof[..head.len]);
    let mut offset = head.len;
    let signs: Vec<bool> = (0..rings - 1)
        .map(|i| proof[offset + (i >> 3)] & (1 << (i & 7)) != 0)
        .collect();
    offset += signs_len;
    if (rings - 1) & 7 != 0 && proof[offset - 1] >> ((rings - 1) & 7) != 0 {
        return None;
    }
    let mut digits = Vec::with_capacity(rings - 1);
    for &sign in &signs {
        m.update([u8::from(sign)]);
        m.update(&proof[offset..offset + 32]);
        digits.push((offset, sign));
        offset += 32;
    }
    let e0 = &proof[offset..offset + 32];
    offset += 32;
    let mut s = Vec::with_capacity(npub);
    for _ in 0..npub {
        s.push(strict_scalar(proof.get(offset..offset + 32)?)?);
        offset += 32;
    }
    if offset != proof.len() {
        return None;
    }
    m.update(extra);
    let parsed = Proof {
        proof,
        head,
        commit: xquad(&commit[1..], commit[0] & 1 == 1)?,
        generator: xquad(&generator[1..], generator[0] & 1 == 1)?,
        rsizes,
        digits,
        e0,
        s,
        m: m.finalize().into(),
        last_digit: OnceCell::new(),
    };

    // The prover's random stream (`rangeproof_genrand`): a blinder per ring, the last making
    // them sum to zero, and 32 bytes per key (the forged keys' s, the message xored in).
    let mut seed = Vec::with_capacity(98 + head.len);
    seed.extend_from_slice(nonce);
    seed.extend_from_slice(&commit_ser);
    seed.extend_from_slice(&generator_ser);
    seed.extend_from_slice(&proof[..head.len]);
    let mut rng = Rfc6979::new(&seed);
    let mut sec = Vec::with_capacity(rings);
    let mut drawn: Vec<[u8; 32]> = Vec::with_capacity(npub);
    let mut acc = Scalar::ZERO;
    for (ring, &size) in parsed.rsizes.iter().enumerate() {
        if ring < rings - 1 {
            rng.next32();
            let blinder = loop {
                let bytes = rng.next32();
                if let Some(x) = strict_scalar(&bytes).filter(|x| !bool::from(x.is_zero())) {
                    break x;
                }
            };
            acc += blinder;
            sec.push(blinder);
        } else {
            sec.push(-acc);
        }
        for _ in 0..size {
            drawn.push(rng.next32());
        }
    }

    // The value, in the clear in one of the last ring's two top forged keys.
    let last = rings - 1;
    let last_first = parsed.first_key(last);
    let last_size = parsed.rsizes[last];
    let (mut value, mut skip1) = (None, 0);
    for j in 0..2 {
        let idx = last_first + last_size - 1 - j;
        let mut t: [u8; 32] = parsed.s[idx].to_bytes().into();
        xor32(&mut t, &drawn[idx]);
        if t[0] & 128 != 0 && t[16..24] == t[24..32] && t[8..16] == t[16..24] {
            value = Some(u64::from_be_bytes(t[24..32].try_into().ok()?));
            skip1 = last_size - 1 - j;
            break;
        }
    }
    let value = value?;
    let skip2 = ((value >> (last << 1)) & 3) as usize;
    if skip1 == skip2 {
        return None;
    }
    let (skip1, skip2) = (skip1 + last_first, skip2 + last_first);

    // The blinder, from the last ring's real key: x = (k - s) / e, less the ring's blinder.
    let e = parsed.challenge(last, skip2 - last_first)?;
    let e_inv = Option::<Scalar>::from(e.invert())?;
    let x = (reduced_scalar(&drawn[skip2]) - parsed.s[skip2]) * e_inv;
    let blind: [u8; 32] = (x - sec[last]).to_bytes().into();

    // The message: each key's s (at a ring's real key, its nonce k = s + x·e) xored with the
    // stream, in key order, the two keys of the value and its blinder left out.
    let mut message = [0u8; 64];
    let mut filled = 0;
    let mut npub_at = 0;
    'rings: for (ring, &size) in parsed.rsizes.iter().enumerate() {
        let real = ((value >> (ring << 1)) & 3) as usize;
        for j in 0..size {
            if npub_at == skip1 || npub_at == skip2 {
                npub_at += 1;
                continue;
            }
            let k = if real == j {
                parsed.s[npub_at] + sec[ring] * parsed.challenge(ring, j)?
            } else {
                parsed.s[npub_at]
            };
            let mut t: [u8; 32] = k.to_bytes().into();
            xor32(&mut t, &drawn[npub_at]);
            let take = (64 - filled).min(32);
            message[filled..filled + take].copy_from_slice(&t[..take]);
            filled += take;
            npub_at += 1;
            if filled == 64 {
                break 'rings;
            }
        }
    }
    if filled < 64 {
        return None;
    }
    let value = value.checked_mul(head.scale)?.checked_add(head.min_value)?;
    Some(Rewound {
        value,
        blind,
        message,
    })
}
