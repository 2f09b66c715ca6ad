"""Seeds a fresh `amphora serve` (embedded node, --block-interval 0) with real data through its
API, the `amphora wallet` CLI and the `amphora confirm` client, so that schemathesis reaches the
operations' real code paths: issued and confirmed assets, categories, registered users with AMP2
wallets (and so GAIDs), assignments, a confirmed distribution, a manager.

Usage: seed.py AMPHORA URL RPC TREASURY_ADDRESS PASSWORD WORK_DIR OUT_JSON
Writes OUT_JSON: the issuer token and the values the hooks draw from (GAIDs, addresses, ...).
Stdlib only.
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

AMPHORA, URL, RPC, TREASURY, PASSWORD, WORK, OUT = sys.argv[1:8]
PUBKEY = "02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084"
TOKEN = None


def api(method, path, body=None, token=None, expect=(200, 201, 204)):
    """One API call; returns the decoded JSON (None for an empty body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(URL + "/api" + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    token = token or TOKEN
    if token:
        request.add_header("authorization", "token " + token)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    if status not in expect:
        raise RuntimeError(f"{method} {path}: {status} {raw[:500]!r}")
    return json.loads(raw) if raw else None


def until_ok(method, path, body=None, tries=300):
    """Retries a call the chain must catch up for (e.g. confirmations of an issuance)."""
    for _ in range(tries):
        try:
            return api(method, path, body)
        except RuntimeError as error:
            last = error
            time.sleep(0.1)
    raise last


def amphora(*args, cwd=WORK):
    """Runs the amphora binary; returns its stdout (JSON decoded when --json is given)."""
    out = subprocess.run([AMPHORA, *args], cwd=cwd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout) if "--json" in args else out.stdout


def wallet(name, *args):
    return amphora("wallet", "--json", "--wallet-dir", f"{WORK}/{name}", "--node-url", RPC, *args)


def issue(name, ticker, **extra):
    body = {
        "name": name,
        "amount": 100_000_000,
        "destination_address": TREASURY,
        "domain": "example.com",
        "ticker": ticker,
        "pubkey": PUBKEY,
        **extra,
    }
    return api("POST", "/assets/issue", body)


def main():
    global TOKEN
    TOKEN = api("POST", "/user/obtain_token", {"username": "issuer", "password": PASSWORD})["token"]

    # wallets of the investors, registered with the platform (GAIDs)
    gaids, addresses = [], [TREASURY]
    for name in ["alice", "bob", "carol"]:
        wallet(name, "create")
        gaids.append(wallet(name, "register", "--platform", URL)["gaid"])
        for index in range(2):
            addresses.append(wallet(name, "address", "--index", str(index))["address"])

    restricted = issue("Seed Restricted", "SRES", transfer_restricted=True)
    reissuable = issue(
        "Seed Reissuable",
        "SREI",
        is_reissuable=True,
        reissuance_amount=10,
        reissuance_address=addresses[-1],
    )
    tracked = issue("Seed Tracked", "STRK")
    assets = [restricted, reissuable, tracked]

    category = api("POST", "/categories/add", {"name": "Seed EU", "description": "seeded"})
    api("POST", "/categories/add", {"name": "Seed US"})
    users = []
    for index, gaid in enumerate(gaids[:2]):
        user = api("POST", "/registered_users/add", {"name": f"Seed user {index}", "GAID": gaid})
        users.append(user)
        api("PUT", f"/categories/{category['id']}/registered_users/{user['id']}/add")
    api("POST", "/registered_users/add", {"name": "Seed user without wallet", "is_company": True})
    api("PUT", f"/categories/{category['id']}/assets/{restricted['asset_uuid']}/add")

    # assignments (once the issuances have their confirmations), and a distribution of them
    for asset in assets:
        for user in users:
            until_ok(
                "POST",
                f"/assets/{asset['asset_uuid']}/assignments/create",
                {"assignments": [{"registered_user": user["id"], "amount": 100,
                                  "ready_for_distribution": True}]},
            )
    distribution = api("GET", f"/assets/{tracked['asset_uuid']}/distributions/create")
    with open(f"{WORK}/distribution.json", "w") as file:
        json.dump(distribution, file)
    amphora("confirm", "-u", "issuer", "-p", PASSWORD, "-n", f"{RPC}/wallet/treasury",
            "--poll-interval", "100ms", "distribute", "-f", "distribution.json")
    # one more assignment left for the run to distribute, delete or lock
    api("POST", f"/assets/{restricted['asset_uuid']}/assignments/create",
        {"assignments": [{"registered_user": users[0]["id"], "amount": 5}]})

    manager = api("POST", "/managers/create",
                  {"username": "seedmanager", "password": "manager password 1"})
    api("PUT", f"/managers/{manager['id']}/assets/{restricted['asset_uuid']}/add")
    api("POST", f"/assets/{restricted['asset_uuid']}/treasury-addresses/add", [TREASURY])

    with open(OUT, "w") as file:
        json.dump({
            "token": TOKEN,
            "gaids": gaids,
            "addresses": addresses,
            "pubkeys": [PUBKEY],
            "asset_uuids": [asset["asset_uuid"] for asset in assets],
            "registered_users": [user["id"] for user in users],
            "category": category["id"],
            "manager": manager["id"],
        }, file, indent=1)


main()
