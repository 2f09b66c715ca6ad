//! OpenAPI schemas of the validated request fields, built from the same rule values the
//! validators run ([`TextRule`], [`IntRule`] and the patterns of `amphora_core`), so the
//! document states every rule the server enforces and cannot drift from it. Each function is
//! used as `#[schema(schema_with = …)]` (or `#[param(schema_with = …)]`) on the field.

use amphora_core::validation::{IntRule, TextRule, WHITESPACE_CLASS};
use amphora_core::{account, asset, category, endpoint, gaid, registered_user, webhook};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::RefOr;

/// Custom `format` of a GAID (its checksum is checked too, which no regex states).
pub const GAID_FORMAT: &str = "gaid";
/// Custom `format` of a compressed secp256k1 public key that must be a point of the curve.
pub const PUBKEY_FORMAT: &str = "secp256k1-pubkey";
/// Custom `format` of a Liquid address of the server's network.
pub const ADDRESS_FORMAT: &str = "liquid-address";

fn string_type(nullable: bool) -> SchemaType {
    if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    }
}

fn text(rule: &TextRule, nullable: bool) -> ObjectBuilder {
    let (min_length, max_length) = rule.length_bounds().unzip();
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .description(Some(rule.describe()))
        .min_length(min_length)
        .max_length(max_length)
        .pattern(Some(rule.pattern()))
}

/// An integer field of `rule`.
fn integer(rule: &IntRule) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(rule.min as f64))
        .maximum(Some(rule.max as f64))
        .description(Some(format!("{} to {}.", rule.min, rule.max)))
        .build()
}

/// An optional `vesting_timestamp` (`null`: none).
pub fn vesting_timestamp() -> Object {
    let rule = amphora_core::assignment::VESTING_TIMESTAMP;
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(rule.min as f64))
        .maximum(Some(rule.max as f64))
        .description(Some(format!("Unix seconds, {} to {}.", rule.min, rule.max)))
        .build()
}

/// A registered user's `name`.
pub fn registered_user_name() -> Object {
    text(&registered_user::NAME, false).build()
}

/// A category's `name`.
pub fn category_name() -> Object {
    text(&category::NAME, false).build()
}

/// A category's `name` in an edit (`null` or absent keeps it).
pub fn category_name_edit() -> Object {
    text(&category::NAME, true).build()
}

/// A category's `description` (`null` or absent: unchanged, or empty when adding).
pub fn category_description() -> Object {
    text(&category::DESCRIPTION, true).build()
}

/// A new account's `username`.
pub fn username() -> Object {
    text(&account::USERNAME, false).build()
}

/// A new `password`: the length rule and the not-entirely-numeric rule (as its pattern).
pub fn new_password() -> Object {
    text(&account::PASSWORD, false)
        .pattern(Some(account::PASSWORD_NOT_NUMERIC_PATTERN))
        .description(Some(format!(
            "{} Not entirely numeric.",
            account::PASSWORD.describe()
        )))
        .build()
}

/// An asset's `name`.
pub fn asset_name() -> Object {
    text(&asset::NAME, false).build()
}

/// A `ticker`.
pub fn ticker() -> Object {
    text(&asset::TICKER, false).build()
}

/// An `issuer_authorization_endpoint` (`null` or empty: none): [`endpoint::pattern`] and
/// [`endpoint::MAX_LENGTH`], what [`endpoint::check`] accepts.
pub fn endpoint() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .max_length(Some(endpoint::MAX_LENGTH))
        .pattern(Some(endpoint::pattern()))
        .description(Some(format!(
            "{} Empty or `null`: none; leading and trailing whitespace is ignored. A target \
             the deployment's outbound policy refuses (loopback, private, link-local; \
             `allow_private_outbound`) is `400 {{\"Error\": …}}`.",
            endpoint::FORM_MESSAGE
        )))
        .build()
}

/// A registry `domain`.
pub fn domain() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(asset::DOMAIN_LENGTH.0))
        .max_length(Some(asset::DOMAIN_LENGTH.1))
        .pattern(Some(asset::DOMAIN_PATTERN))
        .description(Some(
            "Bare host name (e.g. `example.com`, not `www.` nor a URL), compared in lower case.",
        ))
        .build()
}

/// A registry `pubkey`.
pub fn pubkey() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(asset::PUBKEY_PATTERN))
        .format(Some(SchemaFormat::Custom(PUBKEY_FORMAT.to_string())))
        .description(Some(
            "Compressed secp256k1 public key (66 hex, 02 or 03 first), a point of the curve.",
        ))
        .build()
}

/// A Liquid address of the server's network, confidential.
pub fn confidential_address() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom(ADDRESS_FORMAT.to_string())))
        .description(Some("Confidential Liquid address of the server's network."))
        .build()
}

/// An optional confidential address (`null` or empty: none).
pub fn optional_confidential_address() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .format(Some(SchemaFormat::Custom(ADDRESS_FORMAT.to_string())))
        .description(Some(
            "Confidential Liquid address of the server's network; empty or `null`: none.",
        ))
        .build()
}

/// The body of the treasury address routes: a non-empty bare array of addresses of the
/// server's network (a schema only; the handlers read `Vec<String>`).
pub struct AddressList;

impl utoipa::PartialSchema for AddressList {
    fn schema() -> RefOr<Schema> {
        let address = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom(ADDRESS_FORMAT.to_string())))
            .description(Some("Liquid address of the server's network."));
        ArrayBuilder::new()
            .items(address)
            .min_items(Some(1))
            .build()
            .into()
    }
}

impl utoipa::ToSchema for AddressList {}

/// The body of the UTXO black/whitelist routes: a non-empty bare array of outputs (a schema
/// only; the handlers read the JSON themselves).
pub struct OutpointList;

impl utoipa::PartialSchema for OutpointList {
    fn schema() -> RefOr<Schema> {
        let outpoint = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("txid", txid())
            .property("vout", vout())
            .required("txid")
            .required("vout")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .description(Some("An output; unknown fields are refused."));
        ArrayBuilder::new()
            .items(outpoint)
            .min_items(Some(1))
            .build()
            .into()
    }
}

impl utoipa::ToSchema for OutpointList {}

/// An issuance `amount`.
pub fn amount() -> Object {
    integer(&asset::AMOUNT)
}

/// A `reissuance_amount`.
pub fn reissuance_amount() -> Object {
    integer(&asset::REISSUANCE_AMOUNT)
}

/// A `precision`.
pub fn precision() -> Object {
    integer(&asset::PRECISION)
}

/// An asset id in a body: 64 hex characters (what `elements` parses), leading and trailing
/// whitespace ignored.
pub fn asset_id() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(ASSET_ID_PATTERN.as_str()))
        .description(Some("Asset id, 64 hex characters."))
        .build()
}

/// The pattern of [`asset_id`].
pub static ASSET_ID_PATTERN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("^[{WHITESPACE_CLASS}]*[0-9A-Fa-f]{{64}}[{WHITESPACE_CLASS}]*$")
});

/// The `format` query parameter of the report routes (a schema only; the handlers read the
/// query): `csv` or `json` in any case, surrounding whitespace ignored; empty or absent: by the
/// `Accept` header (`text/csv` for CSV), else JSON.
pub struct ReportFormat;

impl utoipa::PartialSchema for ReportFormat {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(REPORT_FORMAT_PATTERN.as_str()))
            .description(Some(
                "`csv` or `json` (any case); empty: by the `Accept` header (`text/csv`: CSV).",
            ))
            .build()
            .into()
    }
}

impl utoipa::ToSchema for ReportFormat {}

/// The pattern of [`ReportFormat`].
pub static REPORT_FORMAT_PATTERN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("^[{WHITESPACE_CLASS}]*(?:[Cc][Ss][Vv]|[Jj][Ss][Oo][Nn])?[{WHITESPACE_CLASS}]*$")
});

/// A transaction id or a blinding factor: 64 hex characters (what `elements` parses).
pub const HEX64_PATTERN: &str = "^[0-9A-Fa-f]{64}$";

fn hex64(description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(HEX64_PATTERN))
        .description(Some(description))
        .build()
}

/// A transaction id.
pub fn txid() -> Object {
    hex64("Transaction id, 64 hex characters.")
}

/// A blinding factor.
pub fn blinder() -> Object {
    hex64("Blinding factor, 64 hex characters.")
}

/// The rule of an output index.
pub const VOUT: IntRule = IntRule {
    field: "vout",
    min: 0,
    max: u32::MAX as i64,
};

/// An output index.
pub fn vout() -> Object {
    integer(&VOUT)
}

fn gaid_object(nullable: bool) -> ObjectBuilder {
    let pattern = if nullable {
        // empty means none, as `null` does
        format!(
            "^(?:{})?$",
            &gaid::GAID_PATTERN[1..gaid::GAID_PATTERN.len() - 1]
        )
    } else {
        gaid::GAID_PATTERN.to_string()
    };
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .pattern(Some(pattern))
        .format(Some(SchemaFormat::Custom(GAID_FORMAT.to_string())))
        .description(Some(
            "GAID: `GA` and 20–28 base58 characters, with a checksum (see DESIGN.md).",
        ))
}

/// A GAID.
pub fn gaid() -> Object {
    gaid_object(false).build()
}

/// An optional GAID (`null` or absent: none).
pub fn optional_gaid() -> Object {
    gaid_object(true).build()
}

/// `limit` of a page of the audit log.
pub fn audit_limit() -> Object {
    integer(&crate::audit::LIMIT)
}

/// `offset` of a page of the audit log.
pub fn audit_offset() -> Object {
    integer(&crate::audit::OFFSET)
}

/// `after` of the events feed.
pub fn events_after() -> Object {
    integer(&crate::routes::events::AFTER)
}

/// `limit` of a page of the events feed.
pub fn events_limit() -> Object {
    integer(&crate::routes::events::LIMIT)
}

/// The `asset_uuid` filter of the events feed.
pub fn events_asset_uuid() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .description(Some("An asset UUID."))
        .build()
}

/// An event type's name (one of [`amphora_core::event::EventType::ALL`]).
pub fn event_type() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(
            amphora_core::event::EventType::ALL
                .iter()
                .map(|t| t.as_str()),
        ))
        .description(Some("The event type."))
        .build()
}

/// The `types` filter of the events feed: event type names.
pub fn event_types() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .items(event_type())
        .description(Some(
            "Event types (the parameter repeated, or one value of comma-separated types).",
        ))
        .build()
}

/// A webhook `url`: [`webhook::url_pattern`] and [`webhook::URL_MAX_LENGTH`], what
/// [`webhook::check_url`] accepts.
pub fn webhook_url() -> Object {
    webhook_url_builder(false).build()
}

/// A webhook `url` in an edit (`null` or absent keeps it).
pub fn webhook_url_edit() -> Object {
    webhook_url_builder(true).build()
}

fn webhook_url_builder(nullable: bool) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .max_length(Some(webhook::URL_MAX_LENGTH))
        .pattern(Some(webhook::url_pattern()))
        .description(Some(format!(
            "{} Leading and trailing whitespace is ignored. A target the deployment's outbound \
             policy refuses (loopback, private, link-local; `allow_private_outbound`) is a 400 \
             naming `url`.",
            endpoint::FORM_MESSAGE
        )))
}

/// A webhook's `description` (`null` or absent: unchanged, or empty when creating).
pub fn webhook_description() -> Object {
    text(&webhook::DESCRIPTION, true).build()
}

/// `enabled` of a webhook edit: only `true` (it re-enables a failing endpoint).
pub fn webhook_enabled() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Boolean, Type::Null]))
        .enum_values(Some([Some(true), None]))
        .description(Some(
            "`true` re-enables a failing endpoint (absent or `null`: unchanged; `false` is refused).",
        ))
        .build()
}

/// A webhook's `events`: `["*"]` or event type names.
pub fn webhook_events() -> utoipa::openapi::schema::Array {
    webhook_events_builder().build()
}

/// A webhook's `events` in an edit (`null` or absent keeps them).
pub fn webhook_events_edit() -> utoipa::openapi::schema::Array {
    webhook_events_builder()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .build()
}

fn webhook_events_builder() -> ArrayBuilder {
    let names = std::iter::once(webhook::ALL_EVENTS).chain(
        amphora_core::event::EventType::ALL
            .iter()
            .map(|t| t.as_str()),
    );
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names))
                .build(),
        )
        .min_items(Some(1))
        .description(Some(
            "`[\"*\"]` (alone) for every event type, present and future, or event types.",
        ))
}

#[cfg(test)]
mod tests;
