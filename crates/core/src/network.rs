//! The Liquid networks Amphora can run on.

use std::fmt;
use std::str::FromStr;

use elements::AddressParams;

/// A Liquid network. `LiquidRegtest` is the default (embedded regtest chain).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Liquid mainnet (`liquidv1`).
    #[serde(rename = "liquidv1")]
    LiquidV1,
    /// Liquid testnet (`liquidtestnet`).
    #[serde(rename = "liquidtestnet")]
    LiquidTestnet,
    /// A local regtest chain with Elements' custom-chain parameters (`liquidregtest`).
    #[default]
    #[serde(rename = "liquidregtest")]
    LiquidRegtest,
}

impl Network {
    /// The chain name as Elements Core spells it (`-chain=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Network::LiquidV1 => "liquidv1",
            Network::LiquidTestnet => "liquidtestnet",
            Network::LiquidRegtest => "liquidregtest",
        }
    }

    /// Address parameters (prefixes and HRPs) of the network.
    pub fn address_params(self) -> &'static AddressParams {
        match self {
            Network::LiquidV1 => &AddressParams::LIQUID,
            Network::LiquidTestnet => &AddressParams::LIQUID_TESTNET,
            Network::LiquidRegtest => &AddressParams::ELEMENTS,
        }
    }

    /// Whether this is the production network.
    pub fn is_mainnet(self) -> bool {
        self == Network::LiquidV1
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown network name.
#[derive(Debug, thiserror::Error)]
#[error("unknown network '{0}': expected liquidv1, liquidtestnet or liquidregtest")]
pub struct UnknownNetwork(pub String);

impl FromStr for Network {
    type Err = UnknownNetwork;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "liquidv1" | "liquid" | "mainnet" => Ok(Network::LiquidV1),
            "liquidtestnet" | "testnet" => Ok(Network::LiquidTestnet),
            "liquidregtest" | "regtest" => Ok(Network::LiquidRegtest),
            other => Err(UnknownNetwork(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_every_network() {
        for n in [
            Network::LiquidV1,
            Network::LiquidTestnet,
            Network::LiquidRegtest,
        ] {
            assert_eq!(n.as_str().parse::<Network>().unwrap(), n);
        }
        assert!("bitcoin".parse::<Network>().is_err());
        assert_eq!(Network::default(), Network::LiquidRegtest);
    }
}
