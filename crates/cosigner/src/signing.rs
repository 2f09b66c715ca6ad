//! Adding the platform's half of the 2-of-2 signatures to an analysed, approved PSET.

use amphora_core::policy::Decision;
use elements::bitcoin::PublicKey;
use elements::pset::PartiallySignedTransaction;
use elements::secp256k1_zkp::Message;
use elements::sighash::SighashCache;
use elements::EcdsaSighashType;

use crate::analysis::TransferAnalysis;
use crate::error::CosignError;
use crate::key::PlatformKey;

impl PlatformKey {
    /// Signs every input of `pset` with the platform key (SIGHASH_ALL, low-R ECDSA) and returns
    /// the number of signatures added.
    ///
    /// Refuses unless `decision` allows co-signing now ([`Decision::may_cosign`]) and `pset` is
    /// the very transaction `analysis` describes. The signing key and witness script come from
    /// the registered descriptor (via the analysis), never from the PSET's hints; only
    /// `partial_sigs` is modified, so LWK's `Amp2::cosign` check accepts the result.
    pub fn sign_platform_half(
        &self,
        pset: &mut PartiallySignedTransaction,
        analysis: &TransferAnalysis,
        decision: &Decision,
    ) -> Result<usize, CosignError> {
        if !decision.may_cosign() {
            return Err(CosignError::NotApproved(decision.reasons.clone()));
        }
        let tx = pset
            .extract_tx()
            .map_err(|e| CosignError::InvalidPset(e.to_string()))?;
        if tx.txid() != analysis.txid || tx.input.len() != analysis.inputs.len() {
            return Err(CosignError::PsetChanged);
        }
        for input in &analysis.inputs {
            let requested = pset.inputs()[input.vin].sighash_type;
            if requested.is_some_and(|t| t.ecdsa_hash_ty() != Some(EcdsaSighashType::All)) {
                return Err(CosignError::UnsupportedSighash { vin: input.vin });
            }
        }
        let mut cache = SighashCache::new(&tx);
        let mut signatures = Vec::with_capacity(analysis.inputs.len());
        for input in &analysis.inputs {
            let signing = &input.signing;
            let xprv = self.derive_xprv(&signing.key_path)?;
            let public_key = PublicKey::new(xprv.private_key.public_key(self.secp()));
            if !signing
                .witness_script
                .as_bytes()
                .windows(33)
                .any(|w| w == public_key.inner.serialize())
            {
                return Err(CosignError::Key(crate::CosignerError::Crypto(format!(
                    "the platform key for input {} is not in its witness script",
                    input.vin
                ))));
            }
            let sighash = cache.segwitv0_sighash(
                input.vin,
                &signing.witness_script,
                signing.value,
                EcdsaSighashType::All,
            );
            let message = Message::from_digest(sighash.to_byte_array());
            let signature = self.secp().sign_ecdsa_low_r(&message, &xprv.private_key);
            let mut bytes = signature.serialize_der().to_vec();
            bytes.push(EcdsaSighashType::All.as_u32() as u8);
            signatures.push((input.vin, public_key, bytes));
        }
        let added = signatures.len();
        for (vin, public_key, bytes) in signatures {
            pset.inputs_mut()[vin]
                .partial_sigs
                .insert(public_key, bytes);
        }
        Ok(added)
    }
}
