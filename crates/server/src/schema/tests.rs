//! Validator and schema agree: for each rule, boundary values are accepted by the validator
//! exactly when the served OpenAPI document's schema of that field accepts them.

use amphora_core::gaid::Gaid;
use amphora_core::validation::TextRule;
use amphora_core::{account, asset, category, endpoint, registered_user, webhook};
use serde_json::Value;

use crate::schema::REPORT_FORMAT_PATTERN;

/// The schema of `property` of component `schema` in the served document.
fn property(schema: &str, property: &str) -> Value {
    let document: Value = serde_json::from_str(&crate::openapi::openapi_json()).unwrap();
    document["components"]["schemas"][schema]["properties"][property].clone()
}

/// Whether `value` satisfies the string keywords of `schema` (type, lengths, pattern).
fn schema_accepts(schema: &Value, value: &str) -> bool {
    let len = value.chars().count() as u64;
    if schema["minLength"].as_u64().is_some_and(|min| len < min)
        || schema["maxLength"].as_u64().is_some_and(|max| len > max)
    {
        return false;
    }
    let pattern = schema["pattern"]
        .as_str()
        .expect("the schema has a pattern");
    regex::Regex::new(pattern).unwrap().is_match(value)
}

/// Strings around the bounds of `rule` and its characters.
fn boundary_values(rule: &TextRule, sample: char) -> Vec<String> {
    let repeat = |n: usize| sample.to_string().repeat(n);
    let mut values = vec![String::new()];
    for len in [rule.min.saturating_sub(1), rule.min, rule.min + 1] {
        values.push(repeat(len));
    }
    for len in [rule.max - 1, rule.max, rule.max + 1] {
        values.push(repeat(len));
    }
    let middle = repeat(rule.min.max(1));
    let long = repeat(rule.max);
    for pad in [" ", "\t", "\n", "\u{3000}", "\u{85}", "\u{a0}", "\u{feff}"] {
        values.push(format!("{pad}{middle}{pad}"));
        values.push(format!("{pad}{long}"));
        values.push(pad.repeat(3));
        values.push(format!("{middle}{pad}{middle}"));
    }
    for odd in [
        '\u{0}', '\u{1f}', '\u{7f}', '\u{9f}', 'é', '_', '.', '-', '@', '/', '~', '7',
    ] {
        values.push(format!("{middle}{odd}"));
        values.push(format!("{odd}{middle}"));
        values.push(format!("{middle}{odd}{middle}"));
    }
    values.push("12345678901".to_string());
    values
}

fn assert_agree(schema: &Value, value: &str, accepted: bool) {
    assert_eq!(
        schema_accepts(schema, value),
        accepted,
        "{value:?}: the validator {} it but the schema {schema} does not",
        if accepted { "accepts" } else { "refuses" }
    );
}

#[test]
fn text_fields_state_their_rules() {
    let cases: &[(&str, &str, &TextRule, char)] = &[
        ("RegisteredUserAdd", "name", &registered_user::NAME, 'x'),
        ("RegisteredUserEdit", "name", &registered_user::NAME, 'x'),
        ("CategoryAdd", "name", &category::NAME, 'x'),
        ("CategoryEdit", "name", &category::NAME, 'x'),
        ("CategoryAdd", "description", &category::DESCRIPTION, 'd'),
        ("CategoryEdit", "description", &category::DESCRIPTION, 'd'),
        ("ManagerCreate", "username", &account::USERNAME, 'u'),
        ("IssuanceRequest", "name", &asset::NAME, 'n'),
        ("IssuanceRequest", "ticker", &asset::TICKER, 'T'),
        ("WebhookCreate", "description", &webhook::DESCRIPTION, 'd'),
        ("WebhookEdit", "description", &webhook::DESCRIPTION, 'd'),
    ];
    for (schema, field, rule, sample) in cases {
        let property = property(schema, field);
        for value in boundary_values(rule, *sample) {
            assert_agree(&property, &value, rule.check(&value).is_ok());
        }
    }
}

#[test]
fn passwords_state_their_rules() {
    for (schema, field) in [
        ("ManagerCreate", "password"),
        ("ChangePassword", "password"),
    ] {
        let property = property(schema, field);
        for value in boundary_values(&account::PASSWORD, 'p')
            .into_iter()
            .chain(boundary_values(&account::PASSWORD, '4'))
        {
            let accepted = account::check_new_password(&value).is_ok();
            assert_agree(&property, &value, accepted);
        }
    }
}

#[test]
fn domains_state_their_rules() {
    let property = property("IssuanceRequest", "domain");
    let label = |n: usize| "a".repeat(n);
    let mut values: Vec<String> = [
        "example.com",
        "Example.COM",
        "a.b",
        "a.bc",
        "ab.c",
        "www.example.com",
        "WWW.example.com",
        "ww.example.com",
        "wwww.example.com",
        "wwa.example.com",
        "w-w.example.com",
        "xww.example.com",
        "example",
        "-a.com",
        "a-.com",
        "a--b.com",
        "exa_mple.com",
        "https://example.com",
        "example.com/x",
        " example.com",
        "example.com ",
        "a..com",
        ".a.com",
        "a.com.",
        "1.2",
        "1.23",
        "é.com",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for n in [62, 63, 64] {
        values.push(format!("{}.com", label(n)));
        values.push(format!("com.{}", label(n)));
    }
    for total in [254, 255, 256] {
        // labels of 63 characters joined by dots, cut to `total` characters
        let mut domain = vec![label(63); 5].join(".");
        domain.truncate(total);
        let domain = domain.trim_end_matches('.').to_string();
        values.push(domain.clone());
        values.push(format!("{}b", &domain[..domain.len() - 1]));
    }
    for value in values {
        let accepted = asset::check_domain(&value.to_ascii_lowercase()).is_ok();
        assert_agree(&property, &value, accepted);
    }
}

#[test]
fn pubkeys_state_their_form() {
    let property = property("IssuanceRequest", "pubkey");
    let key = "02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084";
    let values = [
        key.to_string(),
        key.to_uppercase(),
        format!(" {key}\n"),
        format!("03{}", &key[2..]),
        format!("04{}", &key[2..]),
        key[..65].to_string(),
        format!("{key}0"),
        format!("02{}", "g".repeat(64)),
        String::new(),
    ];
    for value in values {
        let accepted = asset::check_pubkey(&value.trim().to_ascii_lowercase()).is_ok();
        assert_agree(&property, &value, accepted);
    }
    // the form holds for keys off the curve too: the format (and description) says it must be
    // a point, which a regex cannot state
    let off_curve = format!("02{}", "ff".repeat(32));
    assert!(schema_accepts(&property, &off_curve));
    assert!(asset::check_pubkey(&off_curve).is_ok());
    assert!(!asset::pubkey_is_on_curve(&off_curve));
    assert_eq!(property["format"], crate::schema::PUBKEY_FORMAT);
}

#[test]
fn gaids_state_their_form() {
    let property = property("RegisteredUserAdd", "GAID");
    assert_eq!(property["format"], crate::schema::GAID_FORMAT);
    for seed in 0u8..=255 {
        let mut id = [seed; 16];
        id[0] = seed.wrapping_mul(7);
        let gaid = Gaid::from_id(id).to_string();
        assert!(schema_accepts(&property, &gaid), "{gaid}");
        // a wrong length or character breaks the form as it breaks the parse
        for bad in [
            format!("{gaid}1"),
            gaid[..gaid.len() - 1].to_string(),
            gaid.replace('G', "0"),
        ] {
            if !schema_accepts(&property, &bad) {
                assert!(Gaid::parse(&bad).is_err(), "{bad}");
            }
        }
    }
    assert!(schema_accepts(&property, Gaid::from_id([0; 16]).as_ref()));
    assert!(!schema_accepts(&property, "GA0OIl"));
}

#[test]
fn integers_state_their_bounds() {
    let schemas = [
        (property("IssuanceRequest", "amount"), asset::AMOUNT),
        (
            property("IssuanceRequest", "reissuance_amount"),
            asset::REISSUANCE_AMOUNT,
        ),
        (property("IssuanceRequest", "precision"), asset::PRECISION),
    ];
    let document: Value = serde_json::from_str(&crate::openapi::openapi_json()).unwrap();
    let audit = document["paths"]["/api/audit"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .clone();
    let param = |name: &str| {
        let param = audit.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(param["in"], "query", "{name}");
        assert_eq!(param["required"], false, "{name}");
        param["schema"].clone()
    };
    let schemas = schemas.into_iter().chain([
        (param("limit"), crate::audit::LIMIT),
        (param("offset"), crate::audit::OFFSET),
    ]);
    for (schema, rule) in schemas {
        let min = schema["minimum"].as_i64().expect("a minimum");
        let max = schema["maximum"].as_i64().expect("a maximum");
        for value in [min - 1, min, min + 1, max - 1, max, max + 1] {
            let in_schema = (min..=max).contains(&value);
            assert_eq!(
                rule.check(value).is_ok(),
                in_schema,
                "{}: {value}",
                rule.field
            );
        }
    }
}

#[test]
fn hex_ids_state_their_form() {
    use std::str::FromStr;
    let property = property("BlindersUpdate", "txid");
    let blinder = property_of_blinder();
    let hex = "ab".repeat(32);
    for value in [
        hex.clone(),
        hex.to_uppercase(),
        hex[..63].to_string(),
        format!("{hex}0"),
        format!("{}g", &hex[..63]),
        String::new(),
    ] {
        let accepted = elements::Txid::from_str(&value).is_ok();
        assert_agree(&property, &value, accepted);
        assert_agree(&blinder, &value, accepted);
    }
}

fn property_of_blinder() -> Value {
    property("BlindersUpdate", "asset_blinder")
}

/// URLs around the form of `endpoint::form` and a length limit of `max`.
fn url_values(max: usize) -> Vec<String> {
    let long = |len: usize| format!("https://issuer.example/{}", "a".repeat(len - 23));
    vec![
        String::new(),
        "   ".into(),
        "https://issuer.example/authorize".into(),
        " https://issuer.example/authorize\n".into(),
        "\u{3000}http://localhost:8080/hooks\u{85}".into(),
        "HTTPS://ISSUER.EXAMPLE:443/a?b=c#d".into(),
        "http://127.0.0.1:18884".into(),
        "http://255.255.255.255:65535/é".into(),
        "http://256.0.0.1/".into(),
        "http://1.2.3/".into(),
        "http://2130706433/".into(),
        "http://0x7f000001/".into(),
        "http://[::1]/".into(),
        "http://xn--nxasmq6b.example/".into(),
        "http://a--b.example/".into(),
        "http://issuer.example:65536/".into(),
        "http://issuer.example:00443/".into(),
        "http://user:pw@issuer.example/".into(),
        "http://issuer.example/a b".into(),
        "http://issuer.example/\u{9f}".into(),
        "http://issuer.example/\u{feff}".into(),
        "ftp://issuer.example/".into(),
        "https:/issuer.example".into(),
        "issuer.example".into(),
        long(max),
        long(max + 1),
        format!(" {}", long(max)),
    ]
}

#[test]
fn endpoints_state_their_form() {
    let values = url_values(endpoint::MAX_LENGTH);
    for schema in ["IssuanceRequest", "AssetEdit"] {
        let property = property(schema, "issuer_authorization_endpoint");
        assert_eq!(property["maxLength"], endpoint::MAX_LENGTH);
        assert_eq!(property["type"], serde_json::json!(["string", "null"]));
        for value in &values {
            assert_agree(&property, value, endpoint::check(value).is_ok());
        }
    }
}

#[test]
fn webhook_urls_state_their_form() {
    let values = url_values(webhook::URL_MAX_LENGTH);
    for (schema, kind) in [
        ("WebhookCreate", serde_json::json!("string")),
        ("WebhookEdit", serde_json::json!(["string", "null"])),
    ] {
        let property = property(schema, "url");
        assert_eq!(property["maxLength"], webhook::URL_MAX_LENGTH);
        assert_eq!(property["type"], kind);
        for value in &values {
            assert_agree(&property, value, webhook::check_url(value).is_ok());
        }
    }
}

proptest::proptest! {
    /// Every value of the endpoint's form is an http(s) URL with a host for the `url` crate (what
    /// the outbound policy parses): after the form, only the deployment's non-public-target
    /// rule can refuse an endpoint, and it answers `{"Error": …}`.
    #[test]
    fn every_endpoint_of_the_form_is_an_http_url(
        url in proptest::string::string_regex(&endpoint::form()).unwrap()
    ) {
        proptest::prop_assume!(url.chars().count() <= endpoint::MAX_LENGTH);
        proptest::prop_assert_eq!(endpoint::check(&url), Ok(Some(url.clone())));
        let policy = crate::outbound::OutboundPolicy { allow_private: true };
        proptest::prop_assert!(policy.check_url(&url).is_ok(), "{}", url);
    }
}

#[test]
fn report_formats_state_their_form() {
    let document: Value = serde_json::from_str(&crate::openapi::openapi_json()).unwrap();
    let parameters = &document["paths"]["/api/assets/{asset_uuid}/ownerships"]["get"]["parameters"];
    let format = parameters
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "format")
        .expect("a format parameter");
    let schema = &format["schema"];
    assert_eq!(
        schema["pattern"],
        REPORT_FORMAT_PATTERN.as_str(),
        "{schema}"
    );
    let headers = axum::http::HeaderMap::new();
    for value in [
        "",
        "csv",
        "CSV",
        "json",
        "Json",
        " csv\t",
        "\u{3000}json",
        "xml",
        "csvv",
        "c sv",
        "   ",
    ] {
        let accepted = crate::routes::csv_answer::wants_csv(Some(value), &headers).is_ok();
        assert_agree(schema, value, accepted);
    }
}

#[test]
fn payout_asset_ids_state_their_form() {
    let asset = property("PayoutCreate", "payout_asset");
    let id = "6f0279e9ed041c3d710a9f57d0c02928416460c4b722ae3457a11eec381c526d";
    for value in [
        id.to_string(),
        id.to_uppercase(),
        format!(" {id}\n"),
        id[..63].to_string(),
        format!("{id}0"),
        format!("{}g", &id[..63]),
        String::new(),
    ] {
        let accepted = value.trim().parse::<elements::AssetId>().is_ok();
        assert_agree(&asset, &value, accepted);
    }
    let total = property("PayoutCreate", "total_amount");
    assert_eq!(total["minimum"], 1.0);
    assert_eq!(total["maximum"], amphora_core::asset::MAX_AMOUNT as f64);
}
