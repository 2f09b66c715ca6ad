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

# The AMP wire protocol answers a request refused by a business rule that depends on the data
# (a GAID already taken, nothing to distribute, an unknown transaction) with
# `400 {"Error": "..."}` where other APIs use 409, and refused logins with DRF's 400. This check
# replaces the built-in `positive_data_acceptance` (excluded by .ci/schemathesis.sh) with the
# same rule plus those two answers: any other refusal of a schema-valid request, in particular
# a field error (`{"field": [...]}`), fails the run.
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case  # noqa: E402

ACCEPTED = {401, 403, 404, 409, 429}
LOGIN = "/api/user/obtain_token"


@schemathesis.check
def valid_data_is_accepted(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or is_unexpected_http_status_case(case):
        return None
    status = response.status_code
    if status < 400 or status >= 500 or status in ACCEPTED:
        return None
    if status == 400:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and list(body) == ["Error"]:
            return None
        if case.operation.path == LOGIN and isinstance(body, dict) and list(body) == ["non_field_errors"]:
            return None
    raise AssertionError(
        f"Schema-valid request refused with {status}: {response.text[:500]}"
    )
