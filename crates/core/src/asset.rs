//! Asset issuance: the rules of the `Issuance` request (reference §2.6) and the Liquid Asset
//! Registry contract committed in the issuance (reference elements.md §D).

use elements::hashes::sha256;
use elements::secp256k1_zkp::PublicKey;
use elements::{Address, ContractHash};

pub use crate::endpoint::check as check_endpoint;
use crate::validation::{Charset, FieldError, IntRule, TextRule};
use crate::Network;

mod rule;
pub use rule::IssuanceRule;

/// Largest amount of an issuance or reissuance, in base units (21 million × 10^8).
pub const MAX_AMOUNT: u64 = 2_100_000_000_000_000;
/// Largest `precision`.
pub const MAX_PRECISION: u8 = 8;

/// The rule of an asset's `name`: 5–255 printable ASCII characters.
pub const NAME: TextRule = TextRule {
    charset: Charset::PrintableAscii,
    length_message: Some("Ensure this field has between 5 and 255 characters."),
    charset_message: "The name must be printable ASCII.",
    ..TextRule::new("name", 5, 255, true)
};

const TICKER_MESSAGE: &str =
    "The ticker must have 3 to 5 characters among A-Z, a-z, 0-9, '.' and '-'.";

/// The rule of a `ticker`: 3–5 characters of `[A-Za-z0-9.-]`.
pub const TICKER: TextRule = TextRule {
    charset: Charset::AsciiAlphanumericAnd(".-"),
    length_message: Some(TICKER_MESSAGE),
    charset_message: TICKER_MESSAGE,
    ..TextRule::new("ticker", 3, 5, true)
};

/// The rule of an issuance's `amount`.
pub const AMOUNT: IntRule = IntRule {
    field: "amount",
    min: 1,
    max: MAX_AMOUNT as i64,
};

/// The rule of an issuance's `reissuance_amount` (0 when not reissuable).
pub const REISSUANCE_AMOUNT: IntRule = IntRule {
    field: "reissuance_amount",
    min: 0,
    max: MAX_AMOUNT as i64,
};

/// The rule of `precision`.
pub const PRECISION: IntRule = IntRule {
    field: "precision",
    min: 0,
    max: MAX_PRECISION as i64,
};

/// Lengths of a `domain` (a bare host name, compared in lower case).
pub const DOMAIN_LENGTH: (usize, usize) = (4, 255);

/// The form of a `domain` (anchored regex; its length is [`DOMAIN_LENGTH`]): two or more
/// dot-separated labels of 1–63 letters, digits and inner hyphens, in any case, the first not
/// `www`.
pub const DOMAIN_PATTERN: &str = concat!(
    "^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9]",
    "|[A-VX-Za-vx-z0-9][A-Za-z0-9-][A-Za-z0-9]|[Ww][A-VX-Za-vx-z0-9-][A-Za-z0-9]",
    "|[Ww][Ww][A-VX-Za-vx-z0-9]|[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9])",
    "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
);

/// The form of a `pubkey` (anchored regex): a compressed secp256k1 public key, 66 hex
/// characters starting with `02` or `03`, leading and trailing whitespace ignored. The key
/// must also be a point of the curve, which no regex states.
pub const PUBKEY_PATTERN: &str = concat!(
    "^[\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*",
    "0[23][0-9A-Fa-f]{64}",
    "[\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$"
);

/// An `Issuance` request as received, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuanceInput {
    /// Asset name, ASCII, 5–255 characters.
    pub name: String,
    /// Amount to issue in base units, 1 … [`MAX_AMOUNT`].
    pub amount: u64,
    /// Confidential address receiving the asset.
    pub destination_address: String,
    /// Issuer's bare domain name (registry entity).
    pub domain: String,
    /// Ticker, 3–5 characters of `[A-Za-z0-9.-]`.
    pub ticker: String,
    /// Issuer's compressed public key (66 hex), the registry `issuer_pubkey`.
    pub pubkey: String,
    /// Decimal places shown by the registry, 0–8.
    pub precision: u8,
    /// Whether the issued amounts are blinded.
    pub is_confidential: bool,
    /// Whether a reissuance token is created.
    pub is_reissuable: bool,
    /// Reissuance tokens to create, in base units (required when reissuable).
    pub reissuance_amount: u64,
    /// Confidential address receiving the reissuance token (required when reissuable).
    pub reissuance_address: String,
    /// Transfer-restricted (true) or issuer-tracked (false).
    pub transfer_restricted: bool,
    /// Optional issuer authorization callback, 5–255 characters.
    pub issuer_authorization_endpoint: Option<String>,
}

/// A validated issuance: every rule of [`validate_issuance`] holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuance {
    /// The normalized input (trimmed strings, lower-case domain and pubkey).
    pub input: IssuanceInput,
    /// The registry contract.
    pub contract: Contract,
}

/// Why an issuance request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuanceError {
    /// Fields that break a rule their OpenAPI schema states (every one of them).
    Fields(Vec<FieldError>),
    /// Every field has the form its schema states, but a rule no schema states refuses the
    /// request: the public key is not a point of the curve, or the reissuance fields do not
    /// go with `is_reissuable` and `destination_address` (AMP answers these `{"Error": …}`).
    Rule(IssuanceRule),
}

/// Checks every field of an issuance request for `network`: first each field's form (all
/// failures at once), then the rules across fields and the public key's point.
pub fn validate_issuance(
    mut input: IssuanceInput,
    network: Network,
) -> Result<Issuance, IssuanceError> {
    let mut errors = Vec::new();
    let mut check = |result: Result<(), FieldError>| {
        if let Err(error) = result {
            errors.push(error);
        }
    };
    input.domain = input.domain.to_ascii_lowercase();
    input.pubkey = input.pubkey.trim().to_ascii_lowercase();
    input.destination_address = input.destination_address.trim().to_string();
    input.reissuance_address = input.reissuance_address.trim().to_string();

    match NAME.check(&input.name) {
        Ok(name) => input.name = name,
        Err(error) => check(Err(error)),
    }
    check(check_amount(&AMOUNT, input.amount));
    check(check_confidential_address(
        "destination_address",
        &input.destination_address,
        network,
    ));
    check(check_domain(&input.domain));
    match TICKER.check(&input.ticker) {
        Ok(ticker) => input.ticker = ticker,
        Err(error) => check(Err(error)),
    }
    check(check_pubkey(&input.pubkey));
    check(PRECISION.check(i64::from(input.precision)).map(drop));
    check(check_amount(&REISSUANCE_AMOUNT, input.reissuance_amount));
    if !input.reissuance_address.is_empty() {
        check(check_confidential_address(
            "reissuance_address",
            &input.reissuance_address,
            network,
        ));
    }
    if let Some(endpoint) = input.issuer_authorization_endpoint.take() {
        match check_endpoint(&endpoint) {
            Ok(endpoint) => input.issuer_authorization_endpoint = endpoint,
            Err(error) => check(Err(error)),
        }
    }
    if !errors.is_empty() {
        return Err(IssuanceError::Fields(errors));
    }
    if let Some(rule) = IssuanceRule::broken_by(&input) {
        return Err(IssuanceError::Rule(rule));
    }
    let contract = Contract {
        domain: input.domain.clone(),
        issuer_pubkey: input.pubkey.clone(),
        name: input.name.clone(),
        precision: input.precision,
        ticker: input.ticker.clone(),
    };
    Ok(Issuance { input, contract })
}

fn check_amount(rule: &IntRule, amount: u64) -> Result<(), FieldError> {
    let amount = i64::try_from(amount).unwrap_or(i64::MAX);
    rule.check(amount).map(drop)
}

fn check_confidential_address(
    field: &str,
    address: &str,
    network: Network,
) -> Result<(), FieldError> {
    if address.is_empty() {
        return Err(FieldError::new(field, "This field may not be blank."));
    }
    let parsed: Address = address
        .parse()
        .map_err(|_| FieldError::new(field, "Enter a valid Liquid address."))?;
    if parsed.params != network.address_params() {
        return Err(FieldError::new(
            field,
            format!("The address is not for the {network} network."),
        ));
    }
    if !parsed.is_blinded() {
        return Err(FieldError::new(field, "The address must be confidential."));
    }
    Ok(())
}

/// Validates a registry `domain` (lower-cased by the caller): [`DOMAIN_LENGTH`] and
/// [`DOMAIN_PATTERN`], with a message for each way it can fail.
pub fn check_domain(domain: &str) -> Result<(), FieldError> {
    let error = |message: &str| Err(FieldError::new("domain", message));
    if !(DOMAIN_LENGTH.0..=DOMAIN_LENGTH.1).contains(&domain.chars().count()) {
        return error("Ensure this field has between 4 and 255 characters.");
    }
    if domain.contains("://") || domain.contains('/') {
        return error("Enter a bare host name, without scheme or path (e.g. example.com).");
    }
    if domain.starts_with("www.") {
        return error("Enter the host name without the www. prefix.");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return error("Enter a valid host name (e.g. example.com).");
    }
    Ok(())
}

/// Validates the form of a registry `pubkey` (trimmed and lower-cased by the caller):
/// [`PUBKEY_PATTERN`]. Whether it is a point of the curve is [`pubkey_is_on_curve`].
pub fn check_pubkey(pubkey: &str) -> Result<(), FieldError> {
    let message = "Enter a compressed public key: 66 hex characters starting with 02 or 03.";
    let bytes = hex::decode(pubkey).map_err(|_| FieldError::new("pubkey", message))?;
    if bytes.len() != 33 || !(bytes[0] == 2 || bytes[0] == 3) {
        return Err(FieldError::new("pubkey", message));
    }
    Ok(())
}

/// Whether a `pubkey` of the form [`check_pubkey`] accepts is a point of the secp256k1 curve.
pub fn pubkey_is_on_curve(pubkey: &str) -> bool {
    hex::decode(pubkey).is_ok_and(|bytes| PublicKey::from_slice(&bytes).is_ok())
}

/// The Liquid Asset Registry contract of an issuance (version 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// `entity.domain`.
    pub domain: String,
    /// `issuer_pubkey` (hex).
    pub issuer_pubkey: String,
    /// `name`.
    pub name: String,
    /// `precision`.
    pub precision: u8,
    /// `ticker`.
    pub ticker: String,
}

impl Contract {
    /// The canonical JSON: keys sorted at every level, compact separators.
    pub fn canonical_json(&self) -> String {
        let text = |value: &str| serde_json::Value::String(value.to_string()).to_string();
        format!(
            "{{\"entity\":{{\"domain\":{}}},\"issuer_pubkey\":{},\"name\":{},\"precision\":{},\"ticker\":{},\"version\":0}}",
            text(&self.domain),
            text(&self.issuer_pubkey),
            text(&self.name),
            self.precision,
            text(&self.ticker),
        )
    }

    /// Single SHA-256 of the canonical JSON; its `Display` is the byte-reversed form that
    /// `rawissueasset` takes as `contract_hash`.
    pub fn hash(&self) -> ContractHash {
        let digest = sha256::Hash::hash(self.canonical_json().as_bytes());
        ContractHash::from_byte_array(digest.to_byte_array())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIDENTIAL_A: &str = "el1qq0fahuqvd58w9heh0e2z06qfp7tqhy4nzf3lkysmdyudfaw79t5655qxlgde6qkeqqat38d697t0x2enha8lud5s0gu09h93d";
    const CONFIDENTIAL_B: &str = "el1qqw747eyh3a5n8t3ar69ge49ydcx4m08gvfz23mdctwnjs5djnv8tz4k9m4yq2rxxv8srx3e246wtefewd24eq50nxm89tqkv7";
    const UNCONFIDENTIAL: &str = "ert1q2mza6jq9pnrxrcpngu42a89u5uhx42uspvpww4";
    const PUBKEY: &str = "02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084";

    fn valid() -> IssuanceInput {
        IssuanceInput {
            name: "Example Security".into(),
            amount: 17_000_000,
            destination_address: CONFIDENTIAL_A.into(),
            domain: "example.com".into(),
            ticker: "EXSEC".into(),
            pubkey: PUBKEY.into(),
            precision: 0,
            is_confidential: false,
            is_reissuable: true,
            reissuance_amount: 1,
            reissuance_address: CONFIDENTIAL_B.into(),
            transfer_restricted: true,
            issuer_authorization_endpoint: None,
        }
    }

    fn field_errors(input: IssuanceInput, network: Network) -> Vec<FieldError> {
        match validate_issuance(input, network).unwrap_err() {
            IssuanceError::Fields(errors) => errors,
            other => panic!("not a field error: {other:?}"),
        }
    }

    fn only_error(input: IssuanceInput) -> FieldError {
        let errors = field_errors(input, Network::LiquidRegtest);
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.into_iter().next().unwrap()
    }

    /// The rule (no schema states it) that refuses `input`.
    fn broken(input: IssuanceInput) -> String {
        match validate_issuance(input, Network::LiquidRegtest).unwrap_err() {
            IssuanceError::Rule(rule) => rule.to_string(),
            other => panic!("not a rule error: {other:?}"),
        }
    }

    #[test]
    fn contract_hash_matches_the_transcript() {
        let issuance = validate_issuance(valid(), Network::LiquidRegtest).unwrap();
        assert_eq!(
            issuance.contract.canonical_json(),
            r#"{"entity":{"domain":"example.com"},"issuer_pubkey":"02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084","name":"Example Security","precision":0,"ticker":"EXSEC","version":0}"#
        );
        assert_eq!(
            issuance.contract.hash().to_string(),
            "909986610ebfd2d9c9e5250c9733d591e70d968c391730a14c28e13a7244e1fc"
        );
    }

    #[test]
    fn contract_hash_matches_the_tether_vector() {
        let contract = Contract {
            domain: "tether.to".into(),
            issuer_pubkey: "0337cceec0beea0232ebe14cba0197a9fbd45fcf2ec946749de920e71434c2b904"
                .into(),
            name: "Tether USD".into(),
            precision: 8,
            ticker: "USDt".into(),
        };
        assert_eq!(
            contract.hash().to_string(),
            "3c7f0a53c2ff5b99590620d7f6604a7a3a7bfbaaa6aa61f7bfc7833ca03cde82"
        );
    }

    #[test]
    fn name_rules() {
        let mut input = valid();
        input.name = "Abcd".into();
        assert_eq!(
            only_error(input).message,
            "Ensure this field has between 5 and 255 characters."
        );
        let mut input = valid();
        input.name = "Société A".into();
        assert_eq!(
            only_error(input).message,
            "The name must be printable ASCII."
        );
        let mut input = valid();
        input.name = "n".repeat(256);
        assert_eq!(only_error(input).field, "name");
    }

    #[test]
    fn amount_bounds() {
        let mut input = valid();
        input.amount = 0;
        assert_eq!(
            only_error(input).message,
            "Ensure this value is between 1 and 2100000000000000."
        );
        let mut input = valid();
        input.amount = MAX_AMOUNT + 1;
        assert_eq!(only_error(input).field, "amount");
        let mut input = valid();
        input.amount = MAX_AMOUNT;
        assert!(validate_issuance(input, Network::LiquidRegtest).is_ok());
    }

    #[test]
    fn ticker_rules() {
        for bad in ["AB", "ABCDEF", "AB C", "AB_C"] {
            let mut input = valid();
            input.ticker = bad.into();
            assert_eq!(
                only_error(input).message,
                "The ticker must have 3 to 5 characters among A-Z, a-z, 0-9, '.' and '-'."
            );
        }
        let mut input = valid();
        input.ticker = "a.B-1".into();
        assert!(validate_issuance(input, Network::LiquidRegtest).is_ok());
    }

    #[test]
    fn domain_rules() {
        let cases = [
            (
                "https://example.com",
                "Enter a bare host name, without scheme or path (e.g. example.com).",
            ),
            (
                "www.example.com",
                "Enter the host name without the www. prefix.",
            ),
            ("localhost", "Enter a valid host name (e.g. example.com)."),
            (
                "exa_mple.com",
                "Enter a valid host name (e.g. example.com).",
            ),
            ("a.b", "Ensure this field has between 4 and 255 characters."),
        ];
        for (domain, message) in cases {
            let mut input = valid();
            input.domain = domain.into();
            assert_eq!(only_error(input).message, message, "{domain}");
        }
        let mut input = valid();
        input.domain = "Example.COM".into();
        let issuance = validate_issuance(input, Network::LiquidRegtest).unwrap();
        assert_eq!(issuance.contract.domain, "example.com");
    }

    #[test]
    fn pubkey_rules() {
        let mut input = valid();
        input.pubkey = "04".to_string() + &PUBKEY[2..];
        assert_eq!(
            only_error(input).message,
            "Enter a compressed public key: 66 hex characters starting with 02 or 03."
        );
        let mut input = valid();
        input.pubkey = "02".to_string() + &"ff".repeat(32);
        assert_eq!(
            broken(input),
            "The public key is not a valid secp256k1 point."
        );
    }

    #[test]
    fn precision_bound() {
        let mut input = valid();
        input.precision = 9;
        assert_eq!(
            only_error(input).message,
            "Ensure this value is between 0 and 8."
        );
    }

    #[test]
    fn addresses_must_be_confidential_and_on_the_network() {
        let mut input = valid();
        input.destination_address = UNCONFIDENTIAL.into();
        assert_eq!(
            only_error(input).message,
            "The address must be confidential."
        );
        let mut input = valid();
        input.destination_address = "not an address".into();
        assert_eq!(only_error(input).message, "Enter a valid Liquid address.");
        let errors = field_errors(valid(), Network::LiquidV1);
        assert_eq!(
            errors[0].message,
            format!("The address is not for the {} network.", Network::LiquidV1)
        );
    }

    #[test]
    fn reissuable_needs_amount_and_a_distinct_address() {
        let mut input = valid();
        input.reissuance_amount = 0;
        assert_eq!(
            broken(input),
            "A reissuable asset needs a reissuance_amount of at least 1."
        );
        let mut input = valid();
        input.reissuance_address = String::new();
        assert_eq!(
            broken(input),
            "A reissuable asset needs a reissuance_address."
        );
        let mut input = valid();
        input.reissuance_address = CONFIDENTIAL_A.into();
        assert_eq!(
            broken(input),
            "The reissuance_address must differ from the destination_address."
        );
        let mut input = valid();
        input.reissuance_address = UNCONFIDENTIAL.into();
        assert_eq!(only_error(input).field, "reissuance_address");
    }

    #[test]
    fn a_broken_rule_is_its_variant() {
        let mut input = valid();
        input.reissuance_address = CONFIDENTIAL_A.into();
        assert_eq!(
            validate_issuance(input, Network::LiquidRegtest),
            Err(IssuanceError::Rule(
                IssuanceRule::ReissuanceAddressIsDestination
            ))
        );
    }

    #[test]
    fn not_reissuable_refuses_token_fields() {
        let mut input = valid();
        input.is_reissuable = false;
        assert_eq!(
            broken(input.clone()),
            "reissuance_amount is only allowed when is_reissuable is true."
        );
        input.reissuance_amount = 0;
        assert_eq!(
            broken(input),
            "reissuance_address is only allowed when is_reissuable is true."
        );
        let mut input = valid();
        input.is_reissuable = false;
        input.reissuance_amount = 0;
        input.reissuance_address = String::new();
        assert!(validate_issuance(input, Network::LiquidRegtest).is_ok());
    }

    #[test]
    fn endpoint_form() {
        let mut input = valid();
        input.issuer_authorization_endpoint = Some("http".into());
        assert_eq!(only_error(input).message, crate::endpoint::FORM_MESSAGE);
        let mut input = valid();
        input.issuer_authorization_endpoint = Some(" https://issuer.example/a ".into());
        let issuance = validate_issuance(input, Network::LiquidRegtest).unwrap();
        assert_eq!(
            issuance.input.issuer_authorization_endpoint.as_deref(),
            Some("https://issuer.example/a")
        );
    }
}
