#!/usr/bin/env bash
# Wall time of `amphora confirm distribute` and `amphora demo` against `amphora serve` with its
# embedded node, for each block interval given (default: 0 and 2, the default). See
# BENCHMARKS.md, "Tutorial".
#
#   cargo build --release -p amphora
#   crates/cli/bench/tutorial.sh [INTERVAL...]
#
# Needs curl and jq. AMPHORA (default target/release/amphora) selects the binary, POLL (default
# 100ms) the confirm client's and the demo's --poll-interval.
set -euo pipefail

AMPHORA=${AMPHORA:-target/release/amphora}
POLL=${POLL:-100ms}
PASSWORD="bench password 1"
PUBKEY=02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084
[ -x "$AMPHORA" ] || { echo "no $AMPHORA: run cargo build --release -p amphora" >&2; exit 1; }
AMPHORA=$(realpath "$AMPHORA")
INTERVALS=("$@")
[ ${#INTERVALS[@]} -gt 0 ] || INTERVALS=(0 2)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { print b - a }'; }

run() {
  local interval=$1 dir serve_pid banner url rpc treasury token
  dir=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "kill \$serve_pid 2>/dev/null; wait \$serve_pid 2>/dev/null; rm -rf '$dir'" RETURN
  (cd "$dir" && AMPHORA_LOG=warn AMPHORA_ISSUER_PASSWORD="$PASSWORD" exec "$AMPHORA" serve \
    --listen 127.0.0.1:0 --node-rpc-listen 127.0.0.1:0 --block-interval "$interval" \
    > "$dir/banner" 2> "$dir/serve.log") &
  serve_pid=$!
  until grep -q '^Log in:' "$dir/banner" 2>/dev/null; do sleep 0.1; done
  banner=$(cat "$dir/banner")
  url=$(sed -n 's/.*listening on //p' <<< "$banner")
  rpc=$(sed -n 's/^ *RPC: *//p' <<< "$banner")
  treasury=$(sed -n 's/^ *Treasury address (destination_address): *//p' <<< "$banner")
  api() { # METHOD PATH [BODY]
    curl -sf -X "$1" "$url/api$2" -H "authorization: token $token" \
      -H 'content-type: application/json' ${3:+-d "$3"}
  }
  token=$(curl -sf "$url/api/user/obtain_token" -H 'content-type: application/json' \
    -d "{\"username\":\"issuer\",\"password\":\"$PASSWORD\"}" | jq -r .token)

  # A distribution to two registered investor wallets, paid by `amphora confirm distribute`.
  local asset users=() gaid
  asset=$(api POST /assets/issue "{\"name\":\"Bench\",\"amount\":1000000,\"destination_address\":\"$treasury\",\"domain\":\"example.com\",\"ticker\":\"BNCH\",\"pubkey\":\"$PUBKEY\"}" | jq -r .asset_uuid)
  for name in alice bob; do
    "$AMPHORA" wallet --json --wallet-dir "$dir/$name" --node-url "$rpc" create > /dev/null
    gaid=$("$AMPHORA" wallet --json --wallet-dir "$dir/$name" --node-url "$rpc" \
      register --platform "$url" | jq -r .gaid)
    users+=("$(api POST /registered_users/add "{\"name\":\"$name\",\"GAID\":\"$gaid\"}" | jq .id)")
  done
  for user in "${users[@]}"; do
    until api POST "/assets/$asset/assignments/create" \
      "{\"assignments\":[{\"registered_user\":$user,\"amount\":100,\"ready_for_distribution\":true}]}" \
      > /dev/null 2>&1; do sleep 0.1; done
  done
  api GET "/assets/$asset/distributions/create/" > "$dir/distribution.json"
  local started
  started=$(now)
  (cd "$dir" && "$AMPHORA" confirm -u issuer -p "$PASSWORD" -n "$rpc/wallet/treasury" \
    --poll-interval "$POLL" distribute -f distribution.json > /dev/null 2>&1)
  printf 'block interval %s s: amphora confirm distribute %.2f s\n' "$interval" "$(elapsed "$started")"

  # The whole tutorial.
  started=$(now)
  (cd "$dir" && "$AMPHORA" demo -u issuer -p "$PASSWORD" --url "$url" \
    -n "$rpc/wallet/treasury" --work-dir demo --poll-interval "$POLL" > /dev/null 2>&1)
  printf 'block interval %s s: amphora demo %.2f s\n' "$interval" "$(elapsed "$started")"
}

for interval in "${INTERVALS[@]}"; do
  run "$interval"
done
