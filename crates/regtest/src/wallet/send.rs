//! Wallet-funded transactions: coin selection, change, issuance/reissuance inputs, fee at the
//! node's fallback fee rate, blinding, signing and submission to the chain.

use std::collections::BTreeMap;

use elements::confidential::{AssetBlindingFactor, Value};
use elements::issuance::{AssetBlindingNonce, AssetEntropy};
use elements::{
    Address, AssetId, AssetIssuance, ContractHash, OutPoint, Script, Sequence, Transaction, TxIn,
    TxOut, TxOutSecrets, Txid,
};

use super::builder::{self, Signer};
use super::ledger::Coin;
use super::state::{is_op_true, Wallet};
use super::store::IssuanceSecrets;
use crate::chain::{Chain, TOO_LONG_MEMPOOL_CHAIN};
use crate::rpc::error::codes;
use crate::rpc::RpcError;

/// Fee rate in satoshi per 1000 virtual bytes: `-fallbackfee=0.00000100` of the transcript.
pub const FALLBACK_FEE_SAT_PER_KVB: u64 = 100;

/// A payment.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// Output script (`OP_RETURN` for burns).
    pub script: Script,
    /// Receiver blinding key (confidential address), `None` for an explicit output.
    pub blinder: Option<elements::secp256k1_zkp::PublicKey>,
    /// Asset.
    pub asset: AssetId,
    /// Amount.
    pub value: u64,
}

impl Recipient {
    /// A payment to an address.
    pub fn to_address(addr: &Address, asset: AssetId, value: u64) -> Recipient {
        Recipient {
            script: addr.script_pubkey(),
            blinder: addr.blinding_pubkey,
            asset,
            value,
        }
    }
}

/// A new issuance on the first input.
#[derive(Debug, Clone)]
pub struct NewIssuance {
    /// Asset amount (0 for none).
    pub asset_amount: u64,
    /// Token amount (0 for none).
    pub token_amount: u64,
    /// Contract hash committed in the entropy.
    pub contract: ContractHash,
    /// Blind the issuance amounts (token id uses the "confidential" flag).
    pub blind: bool,
    /// Receiver of the asset.
    pub asset_to: Address,
    /// Receiver of the token.
    pub token_to: Address,
}

/// A reissuance spending a token coin.
#[derive(Debug, Clone)]
pub struct Reissuance {
    /// The (blinded) token output spent.
    pub token_coin: Coin,
    /// The asset's entropy.
    pub entropy: AssetEntropy,
    /// The asset reissued.
    pub asset: AssetId,
    /// Amount to reissue.
    pub amount: u64,
    /// Receiver of the new asset.
    pub asset_to: Address,
    /// Receiver of the token.
    pub token_to: Address,
}

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    /// Payments and burns, in output order.
    pub outputs: Vec<Recipient>,
    /// New issuance.
    pub issuance: Option<NewIssuance>,
    /// Reissuance.
    pub reissuance: Option<Reissuance>,
    /// Index in `outputs` that pays the fee (policy asset only).
    pub subtract_fee_from: Option<usize>,
    /// Fee rate in satoshi per 1000 vbytes (`fee_rate` argument); the fallback fee if unset.
    pub fee_rate: Option<u64>,
    /// `nLockTime` of the transaction ([`anti_fee_sniping_lock_time`] for wallet sends).
    pub lock_time: u32,
}

/// How old the tip may be for a wallet send to lock to its height (Elements Core's
/// `MAX_ANTI_FEE_SNIPING_TIP_AGE`).
const ANTI_FEE_SNIPING_TIP_AGE_SECS: u64 = 8 * 60 * 60;

/// The `nLockTime` Elements Core's wallet gives a transaction it builds (anti-fee-sniping): the
/// tip's height, so the transaction is final only on top of the current chain, or 0 while the
/// tip is older than 8 hours. (Core also backdates it by up to 100 blocks one time in ten; the
/// embedded node keeps the tip height, which Core picks the other nine times.) A transaction
/// locked this way does not return to the mempool when a reorg leaves the chain below it.
pub fn anti_fee_sniping_lock_time(chain: &Chain) -> u32 {
    let height = chain.height();
    let tip_time = chain
        .block_at(height)
        .map(|b| u64::from(b.header.time))
        .unwrap_or(0);
    if tip_time + ANTI_FEE_SNIPING_TIP_AGE_SECS < crate::chain::now_secs() {
        return 0;
    }
    height
}

/// A built, signed transaction and the secrets the wallet keeps about it.
#[derive(Debug, Clone)]
pub struct Built {
    /// The transaction.
    pub tx: Transaction,
    /// Fee paid in the policy asset.
    pub fee: u64,
    /// Secrets of blinded outputs.
    pub blinded: BTreeMap<u32, TxOutSecrets>,
    /// Secrets of issuance inputs.
    pub issuances: BTreeMap<u32, IssuanceSecrets>,
}

/// `-6 Insufficient funds`.
pub fn insufficient_funds() -> RpcError {
    RpcError::new(codes::WALLET_INSUFFICIENT_FUNDS, "Insufficient funds")
}

/// Fee for a transaction of `vsize` at `sat_per_kvb` (rounded up).
pub fn fee_for_vsize(vsize: usize, sat_per_kvb: u64) -> u64 {
    (vsize as u64 * sat_per_kvb).div_ceil(1000)
}

/// Parses a `fee_rate` argument in sat/vB (decimals allowed) into sat per 1000 vbytes.
pub fn fee_rate_arg(v: &serde_json::Value) -> Result<u64, RpcError> {
    // An 8-decimal amount of "sat/vB" scaled to sat/kvB.
    Ok(super::params::amount(v)? / 100_000)
}

impl Wallet {
    /// Coins the wallet may spend now: trusted and mature.
    pub fn spendable_coins(&self) -> Vec<Coin> {
        let mut coins: Vec<Coin> = self
            .coins()
            .into_iter()
            .filter(|c| c.trusted && !c.immature)
            .collect();
        coins.sort_by(|a, b| {
            b.secrets
                .value
                .cmp(&a.secrets.value)
                .then(a.outpoint.cmp(&b.outpoint))
        });
        coins
    }

    /// Builds, blinds and signs a transaction for `req` (wallet must be unlocked).
    pub fn build(&mut self, policy: AssetId, req: &SendRequest) -> Result<Built, RpcError> {
        self.ensure_unlocked()?;
        let coins = self.spendable_coins();
        let mut change: BTreeMap<AssetId, Address> = BTreeMap::new();
        // The first attempt pays a token fee so that it already spends a policy-asset coin: the
        // attempts that follow then differ only in the fee and the change, and the other
        // outputs' proofs carry over (a first attempt without fee spent no policy coin, and
        // every proof was made again over the new inputs).
        let mut fee = 1u64;
        let mut blinded = builder::BlindCache::default();
        for _ in 0..8 {
            let mut recipients = req.outputs.clone();
            if let Some(i) = req.subtract_fee_from {
                let r = recipients.get_mut(i).ok_or_else(insufficient_funds)?;
                r.value = r.value.checked_sub(fee).filter(|v| *v > 0).ok_or_else(|| {
                    RpcError::new(
                        codes::WALLET_ERROR,
                        "The transaction amount is too small to pay the fee",
                    )
                })?;
            }
            let mut need: BTreeMap<AssetId, u64> = BTreeMap::new();
            for r in &recipients {
                *need.entry(r.asset).or_default() += r.value;
            }
            // With subtractfeefromamount the recipient's reduction pays the fee.
            *need.entry(policy).or_default() += fee;
            let mut selected: Vec<Coin> = Vec::new();
            let mut issued: BTreeMap<AssetId, u64> = BTreeMap::new();
            if let Some(re) = &req.reissuance {
                selected.push(re.token_coin.clone());
                *need.entry(re.token_coin.secrets.asset).or_default() +=
                    re.token_coin.secrets.value;
                *need.entry(re.asset).or_default() += re.amount;
                *issued.entry(re.asset).or_default() += re.amount;
            }
            for (asset, amount) in &need {
                let mut have: u64 = selected
                    .iter()
                    .filter(|c| c.secrets.asset == *asset)
                    .map(|c| c.secrets.value)
                    .sum::<u64>()
                    + issued.get(asset).copied().unwrap_or(0);
                for coin in coins.iter().filter(|c| c.secrets.asset == *asset) {
                    if have >= *amount {
                        break;
                    }
                    if selected.iter().any(|s| s.outpoint == coin.outpoint) {
                        continue;
                    }
                    have += coin.secrets.value;
                    selected.push(coin.clone());
                }
                if have < *amount {
                    return Err(insufficient_funds());
                }
            }
            if selected.is_empty() {
                let coin = coins
                    .iter()
                    .find(|c| c.secrets.asset == policy)
                    .ok_or_else(insufficient_funds)?;
                selected.push(coin.clone());
            }
            let mut tx = Transaction {
                version: 2,
                lock_time: elements::LockTime::from_consensus(req.lock_time),
                input: selected
                    .iter()
                    .map(|c| TxIn {
                        previous_output: c.outpoint,
                        is_pegin: false,
                        script_sig: Script::new(),
                        sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                        asset_issuance: AssetIssuance::null(),
                        witness: Default::default(),
                    })
                    .collect(),
                output: Vec::new(),
            };
            let mut blind_issuance = Vec::new();
            let mut outputs: Vec<TxOut> = recipients
                .iter()
                .map(|r| builder::unblinded_output(r.script.clone(), r.blinder, r.asset, r.value))
                .collect();
            if let Some(iss) = &req.issuance {
                let prevout = tx.input[0].previous_output;
                let asset = AssetId::new_issuance(prevout, iss.contract);
                let token = AssetId::new_reissuance_token(prevout, iss.contract, iss.blind);
                tx.input[0].asset_issuance = AssetIssuance {
                    asset_blinding_nonce: AssetBlindingNonce::NEW_ISSUANCE,
                    asset_entropy: AssetEntropy::from_byte_array(iss.contract.to_byte_array()),
                    amount: amount_or_null(iss.asset_amount),
                    inflation_keys: amount_or_null(iss.token_amount),
                };
                if iss.blind {
                    blind_issuance.push(0);
                }
                if iss.asset_amount > 0 {
                    let r = Recipient::to_address(&iss.asset_to, asset, iss.asset_amount);
                    outputs.push(builder::unblinded_output(
                        r.script,
                        r.blinder,
                        asset,
                        iss.asset_amount,
                    ));
                }
                if iss.token_amount > 0 {
                    let r = Recipient::to_address(&iss.token_to, token, iss.token_amount);
                    outputs.push(builder::unblinded_output(
                        r.script,
                        r.blinder,
                        token,
                        iss.token_amount,
                    ));
                }
            }
            if let Some(re) = &req.reissuance {
                tx.input[0].asset_issuance = AssetIssuance {
                    asset_blinding_nonce: AssetBlindingNonce::from_blinding_factor(
                        re.token_coin.secrets.asset_bf,
                    ),
                    asset_entropy: re.entropy,
                    amount: Value::Explicit(re.amount),
                    inflation_keys: Value::Null,
                };
                // A token of a blinded issuance can only be spent by a blinded reissuance.
                if re.token_coin.secrets.asset
                    == AssetId::reissuance_token_from_entropy(re.entropy, true)
                {
                    blind_issuance.push(0);
                }
                let a = Recipient::to_address(&re.asset_to, re.asset, re.amount);
                outputs.push(builder::unblinded_output(
                    a.script, a.blinder, re.asset, re.amount,
                ));
                let token = re.token_coin.secrets.asset;
                let t = Recipient::to_address(&re.token_to, token, re.token_coin.secrets.value);
                outputs.push(builder::unblinded_output(
                    t.script,
                    t.blinder,
                    token,
                    re.token_coin.secrets.value,
                ));
            }
            // Change per asset.
            let mut surplus: BTreeMap<AssetId, u64> = BTreeMap::new();
            for c in &selected {
                *surplus.entry(c.secrets.asset).or_default() += c.secrets.value;
            }
            for (asset, amount) in &issued {
                *surplus.entry(*asset).or_default() += amount;
            }
            for (asset, amount) in &need {
                let s = surplus.entry(*asset).or_default();
                *s -= amount;
            }
            for (asset, amount) in surplus {
                if amount == 0 {
                    continue;
                }
                let addr = match change.get(&asset) {
                    Some(a) => a.clone(),
                    None => {
                        let a = self.new_change()?;
                        change.insert(asset, a.clone());
                        a
                    }
                };
                let r = Recipient::to_address(&addr, asset, amount);
                outputs.push(builder::unblinded_output(
                    r.script, r.blinder, asset, amount,
                ));
            }
            outputs.push(TxOut::new_fee(fee, policy));
            tx.output = outputs;
            let built = self.finish(tx, &selected, &blind_issuance, fee, &mut blinded)?;
            let rate = req.fee_rate.unwrap_or(FALLBACK_FEE_SAT_PER_KVB);
            let needed = fee_for_vsize(built.tx.vsize(), rate);
            if fee >= needed {
                return Ok(built);
            }
            fee = needed;
        }
        Err(RpcError::new(
            codes::WALLET_ERROR,
            "Transaction fee could not be settled",
        ))
    }

    /// Blinds and signs a transaction spending `selected`.
    fn finish(
        &mut self,
        mut tx: Transaction,
        selected: &[Coin],
        blind_issuance: &[usize],
        fee: u64,
        cache: &mut builder::BlindCache,
    ) -> Result<Built, RpcError> {
        let issuances = builder::blind_issuances(&self.secp, &mut tx, blind_issuance)
            .map_err(|e| RpcError::new(codes::WALLET_ERROR, e.to_string()))?;
        let inputs: Vec<Option<TxOutSecrets>> = selected.iter().map(|c| Some(c.secrets)).collect();
        let spent: Vec<TxOut> = selected.iter().map(|c| c.txout.clone()).collect();
        let blinded =
            builder::blind_outputs_reusing(&self.secp, &mut tx, &inputs, &spent, &issuances, cache)
                .map_err(|e| RpcError::new(codes::WALLET_ERROR, e.to_string()))?;
        let signers = self.signers(&spent)?;
        builder::sign(&self.secp, &mut tx, &spent, &signers, self.params);
        Ok(Built {
            tx,
            fee,
            blinded,
            issuances,
        })
    }

    /// Signers for spending `spent` (None for outputs that are not the wallet's).
    pub fn signers(&mut self, spent: &[TxOut]) -> Result<Vec<Option<Signer>>, RpcError> {
        let mut signers = Vec::new();
        for out in spent {
            if is_op_true(&out.script_pubkey) {
                signers.push(Some(Signer::AnyoneCanSpend));
                continue;
            }
            match self.owner(&out.script_pubkey) {
                Some(owner) => {
                    let secret = self.secret_key(owner.key)?;
                    signers.push(Some(Signer::Key {
                        secret,
                        kind: owner.kind,
                    }));
                }
                None => signers.push(None),
            }
        }
        Ok(signers)
    }

    /// Submits a built transaction and records it with its secrets. A transaction the mempool
    /// refuses over its package limits is recorded all the same and its txid answered, as
    /// Elements Core's `CommitTransaction` does ("cannot be broadcast immediately"): it stays
    /// unconfirmed and untrusted, its inputs spent and its outputs no coins, until the wallet
    /// resubmits it at the next start or `loadwallet`.
    pub fn commit(&mut self, chain: &mut Chain, built: Built) -> Result<Txid, RpcError> {
        let txid = built.tx.txid();
        match chain.submit_transaction(built.tx.clone()) {
            Ok(_) => {}
            Err(e)
                if e.code == codes::VERIFY_REJECTED
                    && e.message.starts_with(TOO_LONG_MEMPOOL_CHAIN) =>
            {
                tracing::info!(
                    wallet = %self.name,
                    %txid,
                    reason = %e.message,
                    "CommitTransaction(): Transaction cannot be broadcast immediately"
                );
            }
            Err(e) => return Err(e),
        }
        self.record(&built.tx, built.blinded, built.issuances);
        self.sync(chain)?;
        self.save()?;
        Ok(txid)
    }

    /// Records a transaction the wallet made, with the secrets only the maker knows.
    pub fn record(
        &mut self,
        tx: &Transaction,
        blinded: BTreeMap<u32, TxOutSecrets>,
        issuances: BTreeMap<u32, IssuanceSecrets>,
    ) {
        self.add_tx(tx, None);
        if let Some(wtx) = self.data.txs.get_mut(&tx.txid()) {
            wtx.sent.extend(blinded);
            wtx.issuances.extend(issuances);
        }
    }

    /// The wallet's coin at `outpoint`, if unspent.
    pub fn coin(&self, outpoint: &OutPoint) -> Option<Coin> {
        self.coins().into_iter().find(|c| c.outpoint == *outpoint)
    }
}

/// Explicit amount, or null for zero.
pub fn amount_or_null(v: u64) -> Value {
    if v == 0 {
        Value::Null
    } else {
        Value::Explicit(v)
    }
}

/// Whether a token coin is blinded: consensus lets a reissuance spend only a blinded token.
pub fn is_blinded_token(coin: &Coin) -> bool {
    coin.secrets.asset_bf != AssetBlindingFactor::zero()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::keys::AddressType;
    use crate::wallet::store::BlockRef;
    use elements::{AddressParams, BlockHash};

    fn funded_wallet(policy: AssetId, asset: AssetId) -> Wallet {
        let mut w = Wallet::create(
            "w",
            None,
            &AddressParams::ELEMENTS,
            vec![BlockHash::from_byte_array([0; 32])],
            false,
        );
        let addr = w.new_address("", AddressType::DEFAULT).unwrap();
        let pay =
            |asset, value| builder::unblinded_output(addr.script_pubkey(), None, asset, value);
        let tx = crate::wallet::test_tx::paying(vec![
            pay(policy, 3_000),
            pay(policy, 50_000),
            pay(asset, 700),
        ]);
        let block = BlockRef {
            hash: BlockHash::from_byte_array([0; 32]),
            height: 0,
            index: 1,
            time: 0,
        };
        assert!(w.add_tx(&tx, Some(block)));
        w
    }

    #[test]
    fn coin_selection_pays_fee_from_largest_policy_coin_and_returns_change() {
        let policy = AssetId::from_byte_array([1; 32]);
        let asset = AssetId::from_byte_array([2; 32]);
        let mut w = funded_wallet(policy, asset);
        let dest = w.new_address("", AddressType::DEFAULT).unwrap();
        let req = SendRequest {
            outputs: vec![Recipient::to_address(&dest, asset, 500)],
            ..SendRequest::default()
        };
        let built = w.build(policy, &req).unwrap();
        assert_eq!(
            built.tx.input.len(),
            2,
            "the asset coin and one policy coin"
        );
        assert_eq!(
            built.fee,
            fee_for_vsize(built.tx.vsize(), FALLBACK_FEE_SAT_PER_KVB)
        );
        let fee_out = built.tx.output.last().unwrap();
        assert!(fee_out.is_fee());
        assert_eq!(fee_out.value, Value::Explicit(built.fee));
        // Recipient, asset change, policy change are blinded; their secrets balance the inputs.
        let values: Vec<(AssetId, u64)> =
            built.blinded.values().map(|s| (s.asset, s.value)).collect();
        assert!(values.contains(&(asset, 500)));
        assert!(values.contains(&(asset, 200)));
        assert!(values.contains(&(policy, 50_000 - built.fee)));
        let too_much = SendRequest {
            outputs: vec![Recipient::to_address(&dest, asset, 701)],
            ..SendRequest::default()
        };
        assert_eq!(
            w.build(policy, &too_much).unwrap_err().code,
            codes::WALLET_INSUFFICIENT_FUNDS
        );
    }

    #[test]
    fn subtract_fee_from_amount_reduces_the_recipient() {
        let policy = AssetId::from_byte_array([1; 32]);
        let asset = AssetId::from_byte_array([2; 32]);
        let mut w = funded_wallet(policy, asset);
        let dest = w.new_address("", AddressType::DEFAULT).unwrap();
        let req = SendRequest {
            outputs: vec![Recipient::to_address(&dest, policy, 53_000)],
            subtract_fee_from: Some(0),
            ..SendRequest::default()
        };
        let built = w.build(policy, &req).unwrap();
        let paid = built
            .blinded
            .values()
            .find(|s| s.asset == policy)
            .unwrap()
            .value;
        assert_eq!(paid, 53_000 - built.fee);
        assert_eq!(fee_for_vsize(1000, 100), 100);
        assert_eq!(
            fee_for_vsize(2621, 100),
            263,
            "the transcript's destroyamount fee"
        );
    }
}
