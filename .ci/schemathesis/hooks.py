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
