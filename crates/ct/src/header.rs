//! A range proof's header (`rangeproof_getheader_impl`, what `secp256k1_rangeproof_info`
//! reports): the proven range and the proof's shape.

/// The header of a Borromean range proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeProofHeader {
    /// Bytes the header takes at the start of the proof.
    pub len: usize,
    /// The base-10 exponent the proven value is a multiple of (-1: a proof of an exact value).
    pub exp: i32,
    /// Bits of the proven range (0 for a proof of an exact value).
    pub mantissa: u32,
    /// 10 to the power of `exp` (1 when `exp` is -1).
    pub scale: u64,
    /// The smallest value the proof allows.
    pub min_value: u64,
    /// The largest value the proof allows.
    pub max_value: u64,
}

impl RangeProofHeader {
    /// Reads the header at the start of `proof`; `None` when it is not a valid one (shorter
    /// than 65 bytes, a reserved bit set, an exponent above 18, more than 64 bits, or a range
    /// past `u64::MAX`).
    pub fn parse(proof: &[u8]) -> Option<RangeProofHeader> {
        if proof.len() < 65 || proof[0] & 128 != 0 {
            return None;
        }
        let mut offset = 0;
        let (mut exp, mut mantissa, mut max_value) = (-1i32, 0u32, 0u64);
        if proof[0] & 64 != 0 {
            exp = i32::from(proof[0] & 31);
            offset += 1;
            if exp > 18 {
                return None;
            }
            mantissa = u32::from(proof[offset]) + 1;
            if mantissa > 64 {
                return None;
            }
            max_value = u64::MAX >> (64 - mantissa);
        }
        offset += 1;
        let mut scale = 1u64;
        for _ in 0..exp.max(0) {
            max_value = max_value.checked_mul(10)?;
            scale *= 10;
        }
        let mut min_value = 0;
        if proof[0] & 32 != 0 {
            min_value = u64::from_be_bytes(proof.get(offset..offset + 8)?.try_into().ok()?);
            offset += 8;
        }
        Some(RangeProofHeader {
            len: offset,
            exp,
            mantissa,
            scale,
            min_value,
            max_value: max_value.checked_add(min_value)?,
        })
    }
}
