//! Receiving addresses of registered AMP2 wallets, derived by the platform (for
//! `GET /api/gaids/{gaid}/address` and distributions), and unblinding of outputs paying them.

use elements::secp256k1_zkp::Secp256k1;
use elements::{Address, TxOut, TxOutSecrets};

use crate::error::DescriptorError;
use crate::key::PlatformKey;

impl PlatformKey {
    /// The confidential receive address at `index` of the external chain of the registered wallet
    /// `descriptor` (re-checked: it must be an AMP2 descriptor co-signed by this platform), on the
    /// platform's network. The same address the wallet's own LWK client derives at that index.
    pub fn receive_address(
        &self,
        descriptor: &str,
        index: u32,
    ) -> Result<Address, DescriptorError> {
        let wallet = self.parse_wallet(descriptor)?;
        let address = wallet
            .descriptor
            .address(index, self.network().address_params())
            .map_err(|e| {
                DescriptorError::Unparseable(format!("cannot derive address {index}: {e}"))
            })?;
        if address.blinding_pubkey.is_none() {
            return Err(DescriptorError::NotConfidential);
        }
        Ok(address)
    }

    /// Unblinds `txout` with the view key of the registered wallet `descriptor` (the blinding
    /// key of the output's script). `None` when the output is not blinded to this wallet (or is
    /// explicit: read its asset and value directly).
    pub fn unblind_wallet_output(
        &self,
        descriptor: &str,
        txout: &TxOut,
    ) -> Result<Option<TxOutSecrets>, DescriptorError> {
        let wallet = self.parse_wallet(descriptor)?;
        let ct = wallet
            .descriptor
            .ct_descriptor()
            .map_err(|e| DescriptorError::Unparseable(e.to_string()))?;
        let Some(key) = lwk_common::derive_blinding_key(ct, &txout.script_pubkey) else {
            return Ok(None);
        };
        Ok(amphora_ct::unblind(&Secp256k1::new(), txout, key).ok())
    }
}
