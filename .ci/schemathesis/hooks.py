"""Schemathesis hooks: generators for the custom `format`s of Amphora's OpenAPI document
(crates/server/src/schema.rs), drawn from the seeded data (SEED_JSON) so that generated values
are real: a GAID with its checksum, a public key on the curve, an address of the network."""

import json
import os

import schemathesis
from hypothesis import strategies as st

with open(os.environ["AMPHORA_SEED_JSON"]) as file:
    SEED = json.load(file)

schemathesis.openapi.format("gaid", st.sampled_from(SEED["gaids"]))
schemathesis.openapi.format("secp256k1-pubkey", st.sampled_from(SEED["pubkeys"]))
schemathesis.openapi.format("liquid-address", st.sampled_from(SEED["addresses"]))

# The built-in `positive_data_acceptance` (configured in schemathesis.toml) lets a schema-valid
# request be answered 400, AMP's status for a refusal by a rule no schema can state: one on the
# stored data (a GAID already taken, an unknown registered user, nothing to distribute), across
# fields, or on a value that must parse (a curve point, a descriptor, a PSET). It checks statuses
# only; this check adds what it cannot see, the body: such a 400 carries AMP's business-rule
# shape `{"Error": ...}` (AMP2 endpoints: `{"error": ...}` without the `request_invalid` reason
# of an undecodable body), never a field error (`{"field": [...]}`), which answers only input
# that breaks its schema. Logins refused for their credentials keep DRF's `non_field_errors`.
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case  # noqa: E402

LOGIN = "/api/user/obtain_token"


def is_rule_refusal(path, body):
    """Whether `body` (a 400's JSON) is a refusal by a rule no schema states."""
    if not isinstance(body, dict):
        return False
    if path.startswith("/amp2/"):
        return isinstance(body.get("error"), str) and "request_invalid" not in body.get("reasons", [])
    if path == LOGIN and list(body) == ["non_field_errors"]:
        return True
    return list(body) == ["Error"] and isinstance(body["Error"], str)


@schemathesis.check
def valid_data_is_not_a_field_error(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or is_unexpected_http_status_case(case):
        return None
    if response.status_code != 400:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not is_rule_refusal(case.operation.path, body):
        raise AssertionError(
            f"Schema-valid request refused as invalid input (400): {response.text[:500]}"
        )
    return None
