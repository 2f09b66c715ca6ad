//! What the wallet operations return; each serialises to the command's `--json` output.

use std::fmt;
use std::path::PathBuf;

use elements::AssetId;
use serde::Serialize;

use crate::sync::WalkReport;

/// `create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Created {
    /// The wallet directory.
    pub wallet_dir: PathBuf,
    /// The mnemonic file (mode 0600).
    pub mnemonic_file: PathBuf,
    /// The node height the first sync starts at (`null`: from genesis).
    pub birth_height: Option<u32>,
    /// The mnemonic itself, only when asked for (`--show-mnemonic`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mnemonic: Option<String>,
}

/// `register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registered {
    /// The platform's base URL.
    pub platform: String,
    /// The AMP2 wallet id.
    pub wid: String,
    /// The GAID to give the issuer.
    pub gaid: String,
    /// The registered CT descriptor (it contains the wallet's view key: keep it private).
    pub descriptor: String,
}

/// `sync` (also the first step of the other commands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Synced {
    /// The node's height.
    pub height: u32,
    /// The walk's details.
    #[serde(flatten)]
    pub walk: WalkReport,
}

/// `address`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressReport {
    /// The confidential address.
    pub address: String,
    /// Its derivation index on the receive chain.
    pub index: u32,
}

/// An asset as the registry describes it (policy asset built in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetLabel {
    /// The asset id.
    pub asset_id: AssetId,
    /// The ticker, if the registry knows the asset.
    pub ticker: Option<String>,
    /// The name, if the registry knows the asset.
    pub name: Option<String>,
    /// Decimal places of the display unit (0 for unknown assets).
    pub precision: u8,
}

impl AssetLabel {
    /// Formats base units in the asset's display unit (`1.50000000`).
    pub fn display(&self, amount: i64) -> String {
        lwk_common::Precision::new(self.precision.min(8))
            .expect("precision at most 8")
            .sats_to_string(amount)
    }

    /// The ticker, or the asset id if the asset has none.
    pub fn short(&self) -> String {
        self.ticker
            .clone()
            .unwrap_or_else(|| self.asset_id.to_string())
    }
}

/// One line of `balance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetBalance {
    /// The asset.
    #[serde(flatten)]
    pub asset: AssetLabel,
    /// The amount in base units.
    pub amount: u64,
    /// The amount in the display unit.
    pub display: String,
}

/// `balance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceReport {
    /// The height the balance is computed at.
    pub height: u32,
    /// One entry per asset held (L-BTC always listed).
    pub assets: Vec<AssetBalance>,
}

/// `send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// The broadcast transaction.
    pub txid: String,
    /// The asset sent.
    pub asset: AssetLabel,
    /// The amount sent, in base units.
    pub amount: u64,
    /// The amount sent, in the display unit.
    pub display: String,
    /// The recipient address.
    pub to: String,
    /// The fee paid, in L-BTC base units.
    pub fee: u64,
}

/// A net change of one asset in a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetDelta {
    /// The asset.
    #[serde(flatten)]
    pub asset: AssetLabel,
    /// The net change in base units (negative: sent).
    pub amount: i64,
    /// The net change in the display unit.
    pub display: String,
}

/// One line of `txs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxReport {
    /// The transaction id.
    pub txid: String,
    /// Confirmation height; `null` while unconfirmed.
    pub height: Option<u32>,
    /// Block time (Unix seconds) when confirmed.
    pub timestamp: Option<u32>,
    /// LWK's classification: incoming, outgoing, redeposit, issuance, reissuance, burn, unknown.
    #[serde(rename = "type")]
    pub kind: String,
    /// Fee of the transaction in L-BTC base units.
    pub fee: u64,
    /// Net change per asset for this wallet.
    pub balance: Vec<AssetDelta>,
}

/// `txs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxsReport {
    /// The transactions, newest first (unconfirmed on top).
    pub txs: Vec<TxReport>,
}

impl fmt::Display for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Wallet created in {}", self.wallet_dir.display())?;
        writeln!(
            f,
            "Mnemonic stored in {} (mode 0600): back it up, it is the only way to recover the wallet.",
            self.mnemonic_file.display()
        )?;
        if let Some(m) = &self.mnemonic {
            writeln!(f, "Mnemonic: {m}")?;
        }
        write!(f, "Next: amphora wallet register --platform <URL>")
    }
}

impl fmt::Display for Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Registered with {}", self.platform)?;
        writeln!(f, "wid:  {}", self.wid)?;
        write!(f, "GAID: {}  (give this to the issuer)", self.gaid)
    }
}

impl fmt::Display for Synced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Synced to height {} ({} new block(s), {} wallet tx(s) confirmed, {} unconfirmed",
            self.height, self.walk.blocks, self.walk.confirmed_txs, self.walk.mempool_txs
        )?;
        if self.walk.reorged > 0 {
            write!(f, ", {} block(s) reorganised", self.walk.reorged)?;
        }
        write!(f, ")")
    }
}

impl fmt::Display for AddressReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.address)
    }
}

impl fmt::Display for BalanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Balance at height {}:", self.height)?;
        for (i, a) in self.assets.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {:>20}  {}", a.display, a.asset.short())?;
            if a.asset.ticker.is_some() {
                write!(f, "  ({})", a.asset.asset_id)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Sent {} {} to {}",
            self.display,
            self.asset.short(),
            self.to
        )?;
        writeln!(f, "fee:  {} sat L-BTC", self.fee)?;
        write!(f, "txid: {}", self.txid)
    }
}

impl fmt::Display for TxsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.txs.is_empty() {
            return write!(f, "No transactions yet.");
        }
        for (i, tx) in self.txs.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let height = tx
                .height
                .map_or_else(|| "unconfirmed".to_string(), |h| format!("height {h}"));
            write!(f, "{}  {:<11} {}", tx.txid, tx.kind, height)?;
            for d in &tx.balance {
                let sign = if d.amount > 0 { "+" } else { "" };
                write!(f, "\n    {sign}{} {}", d.display, d.asset.short())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn label(ticker: Option<&str>, precision: u8) -> AssetLabel {
        AssetLabel {
            asset_id: AssetId::from_byte_array([7; 32]),
            ticker: ticker.map(str::to_string),
            name: None,
            precision,
        }
    }

    #[test]
    fn balance_json_shape() {
        let report = BalanceReport {
            height: 12,
            assets: vec![AssetBalance {
                asset: label(Some("ACME"), 2),
                amount: 150,
                display: label(None, 2).display(150),
            }],
        };
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            json!({
                "height": 12,
                "assets": [{
                    "asset_id": AssetId::from_byte_array([7; 32]).to_string(),
                    "ticker": "ACME",
                    "name": null,
                    "precision": 2,
                    "amount": 150,
                    "display": "1.50"
                }]
            })
        );
        assert!(report.to_string().contains("1.50  ACME"));
    }

    #[test]
    fn txs_json_shape_and_text() {
        let report = TxsReport {
            txs: vec![TxReport {
                txid: "ab".repeat(32),
                height: None,
                timestamp: None,
                kind: "outgoing".into(),
                fee: 250,
                balance: vec![AssetDelta {
                    asset: label(None, 0),
                    amount: -5,
                    display: "-5".into(),
                }],
            }],
        };
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(v["txs"][0]["type"], "outgoing");
        assert_eq!(v["txs"][0]["height"], serde_json::Value::Null);
        assert_eq!(v["txs"][0]["balance"][0]["amount"], -5);
        assert_eq!(v["txs"][0]["balance"][0]["ticker"], serde_json::Value::Null);
        let text = report.to_string();
        assert!(text.contains("unconfirmed"));
        assert!(text.contains("-5 0707"));
    }

    #[test]
    fn created_hides_the_mnemonic_unless_asked() {
        let created = Created {
            wallet_dir: "/w".into(),
            mnemonic_file: "/w/mnemonic".into(),
            birth_height: Some(3),
            mnemonic: None,
        };
        let v = serde_json::to_value(&created).unwrap();
        assert_eq!(
            v,
            json!({"wallet_dir": "/w", "mnemonic_file": "/w/mnemonic", "birth_height": 3})
        );
        assert!(!created.to_string().contains("Mnemonic:"));
    }

    #[test]
    fn sent_and_registered_json_shapes() {
        let sent = Sent {
            txid: "00".repeat(32),
            asset: label(Some("ACME"), 0),
            amount: 10,
            display: "10".into(),
            to: "el1...".into(),
            fee: 40,
        };
        let v = serde_json::to_value(&sent).unwrap();
        assert_eq!(v["asset"]["ticker"], "ACME");
        assert_eq!(v["amount"], 10);
        assert_eq!(v["fee"], 40);
        let reg = Registered {
            platform: "http://p".into(),
            wid: "w".into(),
            gaid: "GA1".into(),
            descriptor: "ct(...)".into(),
        };
        assert_eq!(
            serde_json::to_value(&reg).unwrap(),
            json!({"platform": "http://p", "wid": "w", "gaid": "GA1", "descriptor": "ct(...)"})
        );
    }
}
