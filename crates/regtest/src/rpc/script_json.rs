//! Script renderings as Elements Core 23.3.3 prints them: `asm` (`ScriptToAsmStr`), output
//! types (`GetTxnOutputType`, plus Elements' `fee`), addresses, descriptors with checksum and
//! the `scriptPubKey` object.

use elements::opcodes::{all, All};
use elements::script::Instruction;
use elements::secp256k1_zkp::ecdsa::Signature;
use elements::{Address, AddressParams, Script};
use serde_json::{json, Map, Value};

/// `ScriptToAsmStr`: data pushes of ≤ 4 bytes as numbers, longer pushes as hex (with a
/// `[ALL]`-style suffix for signatures when `sighash_decode`), opcodes by name.
pub fn script_asm(script: &Script, sighash_decode: bool) -> String {
    let mut parts = Vec::new();
    let unspendable = script.is_provably_unspendable();
    for ins in script.instructions() {
        match ins {
            Ok(Instruction::PushBytes(bytes)) => {
                if bytes.len() <= 4 {
                    parts.push(script_num(bytes).to_string());
                } else if sighash_decode && !unspendable {
                    parts.push(decode_signature(bytes).unwrap_or_else(|| hex::encode(bytes)));
                } else {
                    parts.push(hex::encode(bytes));
                }
            }
            Ok(Instruction::Op(op)) => parts.push(op_name(op)),
            Err(_) => {
                parts.push("[error]".to_string());
                break;
            }
        }
    }
    parts.join(" ")
}

fn script_num(bytes: &[u8]) -> i64 {
    if bytes.is_empty() {
        return 0;
    }
    let mut result: i64 = 0;
    for (i, b) in bytes.iter().enumerate() {
        result |= i64::from(*b) << (8 * i);
    }
    let last = bytes[bytes.len() - 1];
    if last & 0x80 != 0 {
        -(result & !(0x80i64 << (8 * (bytes.len() - 1))))
    } else {
        result
    }
}

fn decode_signature(bytes: &[u8]) -> Option<String> {
    let (&hash_type, der) = bytes.split_last()?;
    Signature::from_der(der).ok()?;
    let name = match hash_type & !0x80 {
        1 => "ALL",
        2 => "NONE",
        3 => "SINGLE",
        _ => return None,
    };
    let suffix = if hash_type & 0x80 != 0 {
        "|ANYONECANPAY"
    } else {
        ""
    };
    Some(format!("{}[{name}{suffix}]", hex::encode(der)))
}

fn op_name(op: All) -> String {
    let code = op.into_u8();
    match code {
        0x00 => "0".into(),
        0x4f => "-1".into(),
        0x51..=0x60 => (code - 0x50).to_string(),
        0xb1 => "OP_CHECKLOCKTIMEVERIFY".into(),
        0xb2 => "OP_CHECKSEQUENCEVERIFY".into(),
        _ if op == all::OP_RETURN => "OP_RETURN".into(),
        _ => format!("{op:?}"),
    }
}

/// `GetTxnOutputType` names (plus Elements' `fee` for the empty script).
pub fn script_type(script: &Script) -> &'static str {
    let b = script.as_bytes();
    if b.is_empty() {
        "fee"
    } else if script.is_p2pkh() {
        "pubkeyhash"
    } else if script.is_p2sh() {
        "scripthash"
    } else if script.is_v0_p2wpkh() {
        "witness_v0_keyhash"
    } else if script.is_v0_p2wsh() {
        "witness_v0_scripthash"
    } else if script.is_v1_p2tr() {
        "witness_v1_taproot"
    } else if script.is_witness_program() {
        "witness_unknown"
    } else if script.is_op_return() {
        "nulldata"
    } else if (b.len() == 35 && b[0] == 33 || b.len() == 67 && b[0] == 65)
        && b[b.len() - 1] == all::OP_CHECKSIG.into_u8()
    {
        "pubkey"
    } else if b.len() > 3 && b[b.len() - 1] == all::OP_CHECKMULTISIG.into_u8() {
        "multisig"
    } else {
        "nonstandard"
    }
}

/// Descriptor checksum suffix (`#xxxxxxxx`).
pub fn with_checksum(desc: &str) -> String {
    match elements_miniscript::descriptor::checksum::desc_checksum(desc) {
        Ok(sum) => format!("{desc}#{sum}"),
        Err(_) => desc.to_string(),
    }
}

/// The unconfidential address of a script, when it has one.
pub fn script_address(script: &Script, params: &'static AddressParams) -> Option<Address> {
    match script_type(script) {
        "pubkeyhash"
        | "scripthash"
        | "witness_v0_keyhash"
        | "witness_v0_scripthash"
        | "witness_v1_taproot"
        | "witness_unknown" => Address::from_script(script, None, params),
        _ => None,
    }
}

/// `ScriptPubKeyToUniv`: `{asm, desc, hex, address?, type}`.
pub fn script_pubkey_json(script: &Script, params: &'static AddressParams) -> Value {
    let mut obj = Map::new();
    obj.insert("asm".into(), json!(script_asm(script, false)));
    let address = script_address(script, params);
    let desc = match &address {
        Some(addr) => format!("addr({addr})"),
        None => format!("raw({})", hex::encode(script.as_bytes())),
    };
    obj.insert("desc".into(), json!(with_checksum(&desc)));
    obj.insert("hex".into(), json!(hex::encode(script.as_bytes())));
    if let Some(addr) = address {
        obj.insert("address".into(), json!(addr.to_string()));
    }
    obj.insert("type".into(), json!(script_type(script)));
    Value::Object(obj)
}
