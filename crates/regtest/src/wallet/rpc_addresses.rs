//! Address RPCs: `getnewaddress`, `getrawchangeaddress`, `getaddressinfo`, `signmessage`.

use base64::Engine;
use elements::address::Payload;
use elements::bitcoin::hashes::Hash;
use elements::bitcoin::PublicKey;
use serde_json::{json, Map, Value};

use super::keys::{AddressType, ScriptKind};
use super::params::{opt_str, parse_address, req_str};
use super::state::Wallet;
use crate::rpc::error::codes;
use crate::rpc::RpcError;

/// `getnewaddress label address_type`
pub fn getnewaddress(wallet: &mut Wallet, params: &[Value]) -> Result<Value, RpcError> {
    let label = opt_str(params, 0)?.unwrap_or("");
    if label == "*" {
        return Err(RpcError::new(codes::WALLET_ERROR, "Invalid label name"));
    }
    let ty = match opt_str(params, 1)? {
        Some(name) => AddressType::parse(name).ok_or_else(|| {
            RpcError::new(
                codes::INVALID_ADDRESS_OR_KEY,
                format!("Unknown address type '{name}'"),
            )
        })?,
        None => AddressType::DEFAULT,
    };
    Ok(Value::from(wallet.new_address(label, ty)?.to_string()))
}

/// `getrawchangeaddress`
pub fn getrawchangeaddress(wallet: &mut Wallet) -> Result<Value, RpcError> {
    let addr = wallet.new_change()?;
    wallet.save()?;
    Ok(Value::from(addr.to_string()))
}

fn witness_fields(obj: &mut Map<String, Value>, payload: &Payload) {
    match payload {
        Payload::WitnessProgram { version, program } => {
            obj.insert("isscript".into(), json!(program.len() == 32));
            obj.insert("iswitness".into(), json!(true));
            obj.insert("witness_version".into(), json!(version.to_u8()));
            obj.insert("witness_program".into(), json!(hex::encode(program)));
        }
        Payload::ScriptHash(_) => {
            obj.insert("isscript".into(), json!(true));
            obj.insert("iswitness".into(), json!(false));
        }
        Payload::PubkeyHash(_) => {
            obj.insert("isscript".into(), json!(false));
            obj.insert("iswitness".into(), json!(false));
        }
    }
}

/// `getaddressinfo address`
pub fn getaddressinfo(wallet: &mut Wallet, params: &[Value]) -> Result<Value, RpcError> {
    let text = req_str(params, 0, "address")?;
    let addr = parse_address(text, wallet.params)
        .ok_or_else(|| RpcError::new(codes::INVALID_ADDRESS_OR_KEY, "Invalid address"))?;
    let script = addr.script_pubkey();
    let unconfidential = addr.to_unconfidential();
    let our_blinder = wallet.blinding().public(&wallet.secp, &script);
    let confidential = if addr.is_blinded() {
        addr.clone()
    } else {
        addr.to_confidential(our_blinder)
    };
    let confidential_key = addr
        .blinding_pubkey
        .map(|k| k.to_string())
        .unwrap_or_default();
    let mut obj = Map::new();
    obj.insert("address".into(), json!(addr.to_string()));
    obj.insert("scriptPubKey".into(), json!(hex::encode(script.as_bytes())));
    let Some(owner) = wallet.owner(&script) else {
        obj.insert("ismine".into(), json!(false));
        obj.insert("solvable".into(), json!(false));
        obj.insert("iswatchonly".into(), json!(false));
        witness_fields(&mut obj, &addr.payload);
        obj.insert("confidential".into(), json!(confidential.to_string()));
        obj.insert("confidential_key".into(), json!(confidential_key));
        obj.insert("unconfidential".into(), json!(unconfidential.to_string()));
        obj.insert("ischange".into(), json!(false));
        obj.insert("labels".into(), json!([]));
        return Ok(Value::Object(obj));
    };
    let key = wallet.data.keys[owner.key].clone();
    let pk: PublicKey = wallet
        .key_pubkey(owner.key)
        .map_err(|e| RpcError::new(codes::WALLET_ERROR, e))?;
    let seed = wallet.data.seed_info[key.origin.seed as usize].clone();
    obj.insert("ismine".into(), json!(true));
    obj.insert("solvable".into(), json!(true));
    obj.insert("desc".into(), json!(wallet.descriptor(owner)));
    obj.insert("iswatchonly".into(), json!(false));
    witness_fields(&mut obj, &addr.payload);
    match owner.kind {
        ScriptKind::P2shSegwit => {
            let embedded = elements::Address::p2wpkh(&pk, None, wallet.params);
            let redeem = embedded.script_pubkey();
            obj.insert("script".into(), json!("witness_v0_keyhash"));
            obj.insert("hex".into(), json!(hex::encode(redeem.as_bytes())));
            obj.insert("pubkey".into(), json!(pk.to_string()));
            let mut emb = Map::new();
            emb.insert("isscript".into(), json!(false));
            witness_fields(&mut emb, &embedded.payload);
            emb.remove("isscript");
            let mut ordered = Map::new();
            ordered.insert("isscript".into(), json!(false));
            ordered.extend(emb);
            ordered.insert("pubkey".into(), json!(pk.to_string()));
            ordered.insert("address".into(), json!(embedded.to_string()));
            ordered.insert("scriptPubKey".into(), json!(hex::encode(redeem.as_bytes())));
            obj.insert("embedded".into(), Value::Object(ordered));
        }
        ScriptKind::Legacy => {
            obj.insert("pubkey".into(), json!(pk.to_string()));
            obj.insert("iscompressed".into(), json!(true));
        }
        ScriptKind::Bech32 => {
            obj.insert("pubkey".into(), json!(pk.to_string()));
        }
    }
    obj.insert("confidential".into(), json!(confidential.to_string()));
    obj.insert("confidential_key".into(), json!(confidential_key));
    obj.insert("unconfidential".into(), json!(unconfidential.to_string()));
    obj.insert("ischange".into(), json!(key.origin.internal));
    obj.insert("timestamp".into(), json!(key.time));
    obj.insert("hdkeypath".into(), json!(key.origin.hdkeypath()));
    obj.insert("hdseedid".into(), json!(seed.seed_id));
    obj.insert("hdmasterfingerprint".into(), json!(seed.fingerprint));
    let labels: Vec<Value> = key.label.iter().map(|l| json!(l)).collect();
    obj.insert("labels".into(), Value::Array(labels));
    Ok(Value::Object(obj))
}

/// `signmessage address message`: checks the lock first (-13), then the address (-5).
pub fn signmessage(wallet: &mut Wallet, params: &[Value]) -> Result<Value, RpcError> {
    wallet.ensure_unlocked()?;
    let text = req_str(params, 0, "address")?;
    let message = req_str(params, 1, "message")?;
    let addr = parse_address(text, wallet.params)
        .ok_or_else(|| RpcError::new(codes::INVALID_ADDRESS_OR_KEY, "Invalid address"))?;
    if !matches!(addr.payload, Payload::PubkeyHash(_)) {
        return Err(RpcError::new(
            codes::TYPE_ERROR,
            "Address does not refer to key",
        ));
    }
    let owner = wallet
        .owner(&addr.script_pubkey())
        .ok_or_else(|| RpcError::new(codes::WALLET_ERROR, "Private key not available"))?;
    let sk = wallet.secret_key(owner.key)?;
    let secp = secp256k1::Secp256k1::signing_only();
    let sk = secp256k1::SecretKey::from_slice(&sk.secret_bytes())
        .map_err(|e| RpcError::new(codes::WALLET_ERROR, e.to_string()))?;
    let msg = secp256k1::Message::from_digest(
        elements::bitcoin::sign_message::signed_msg_hash(message).to_byte_array(),
    );
    let (recid, sig) = secp.sign_ecdsa_recoverable(&msg, &sk).serialize_compact();
    let mut out = [0u8; 65];
    out[0] = 27 + 4 + recid.to_i32() as u8;
    out[1..].copy_from_slice(&sig);
    Ok(Value::from(
        base64::engine::general_purpose::STANDARD.encode(out),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::state::Wallet;

    /// Recovers the public key from a `signmessage` signature (base64) over `message`.
    pub fn recover_signer(signature: &str, message: &str) -> Option<secp256k1::PublicKey> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .ok()?;
        if bytes.len() != 65 || bytes[0] < 27 {
            return None;
        }
        let recid = secp256k1::ecdsa::RecoveryId::from_i32(i32::from((bytes[0] - 27) & 3)).ok()?;
        let sig = secp256k1::ecdsa::RecoverableSignature::from_compact(&bytes[1..], recid).ok()?;
        let msg = secp256k1::Message::from_digest(
            elements::bitcoin::sign_message::signed_msg_hash(message).to_byte_array(),
        );
        secp256k1::Secp256k1::verification_only()
            .recover_ecdsa(&msg, &sig)
            .ok()
    }

    #[test]
    fn signmessage_signs_with_the_legacy_key_and_checks_lock_first() {
        let mut w = Wallet::create(
            "w",
            None,
            &elements::AddressParams::ELEMENTS,
            Vec::new(),
            false,
        );
        let legacy = w
            .new_address("", AddressType::parse("legacy").unwrap())
            .unwrap();
        let info = getaddressinfo(&mut w, &[json!(legacy.to_string())]).unwrap();
        let sig = signmessage(&mut w, &[json!(legacy.to_string()), json!("hello")]).unwrap();
        let pk = recover_signer(sig.as_str().unwrap(), "hello").unwrap();
        assert_eq!(pk.to_string(), info["pubkey"].as_str().unwrap());
        assert!(recover_signer(sig.as_str().unwrap(), "other")
            .map(|k| k != pk)
            .unwrap_or(true));
        let segwit = w.new_address("", AddressType::DEFAULT).unwrap();
        let err = signmessage(&mut w, &[json!(segwit.to_string()), json!("m")]).unwrap_err();
        assert_eq!(err.code, codes::TYPE_ERROR);
        let err = signmessage(&mut w, &[json!("invalidaddress"), json!("m")]).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (codes::INVALID_ADDRESS_OR_KEY, "Invalid address")
        );
        w.encrypt("pw").unwrap();
        let err = signmessage(&mut w, &[json!("invalidaddress"), json!("m")]).unwrap_err();
        assert_eq!(err.code, codes::WALLET_UNLOCK_NEEDED);
    }
}
