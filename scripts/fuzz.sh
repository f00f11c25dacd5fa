#!/usr/bin/env bash
# Fuzzes the REST API against its own OpenAPI document with schemathesis:
# every operation, every phase (examples, coverage, fuzzing, stateful), every
# check, as a tenant administrator, on a fresh SQLite database.
#
#   scripts/fuzz.sh [seconds]     # default 120; e.g. 600 for a deeper run
#
# Each run draws a new seed and prints it; RATEDECK_FUZZ_SEED=<seed> replays
# one (the test command pins its own, so that its pass is repeatable).
#
# Fails (non-zero) on any server error, any answer off the documented schema,
# status codes, content types or headers, any dropped connection, and any
# schema-violating request that is accepted. The one check left out is
# `positive_data_acceptance`: the document cannot say everything a request is
# refused for (the filter grammar, the fields a list sorts by, unique
# prefixes and names, ISO 4217 codes, dates in order), so a schema-valid
# request may rightly answer 400 VALIDATE_FAILED. schemathesis comes from PyPI,
# pinned, in a virtualenv made under target/fuzz-venv (reused when present).
# Reports (JUnit, and the server's log) are left in target/fuzz/.
set -euo pipefail

SCHEMATHESIS_VERSION="4.32.5"
budget="${1:-120}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="target/fuzz-venv"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "== installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
st="$venv/bin/schemathesis"

if [ ! -x target/debug/ratedeck ]; then
    echo "== building the server"
    cargo build -p server --bin ratedeck
fi

out="target/fuzz"
rm -rf "$out" && mkdir -p "$out"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
password="fuzz-admin-password-$RANDOM$RANDOM"

RATEDECK_ADMIN_PASSWORD="$password" \
    DATABASE_URL="sqlite://$work/fuzz.db" \
    RATEDECK_LISTEN="127.0.0.1:$port" \
    RUST_LOG="${RUST_LOG:-warn}" \
    target/debug/ratedeck >"$out/server.log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    curl -fsS "$base/api/openapi.json" -o /dev/null 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { echo "the server did not start:"; cat "$out/server.log"; exit 1; }
    sleep 0.2
done

# JSON out of an answer, by key.
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
post() { curl -fsS "$base$1" -H 'Content-Type: application/json' "${@:3}" -d "$2"; }

root_token="$(post /api/login "{\"username\":\"admin\",\"password\":\"$password\"}" | field access_token)"
tenant="$(post /api/tenants '{"name":"Fuzz","sip_domain":"fuzz.example.com","currency":"USD"}' \
    -H "Authorization: Bearer $root_token" | field id)"
post /api/users "{\"username\":\"boss\",\"password\":\"a long fuzz password\",\"role\":\"Admin\",\"tenant_id\":\"$tenant\"}" \
    -H "Authorization: Bearer $root_token" >/dev/null
login() {
    post /api/login '{"username":"boss","password":"a long fuzz password","domain":"fuzz.example.com"}' |
        field access_token
}
token="$(login)"

# One worker: Python 3.11 can fail parsing in two threads at once
# ("AST constructor recursion depth mismatch"), and the machine has 2 cores.
# Run from the report folder, where schemathesis keeps its cache.
run() {
    local name="$1"
    shift
    (cd "$out" && "$root/$st" run "$base/api/openapi.json" \
        --url "$base" \
        --checks all \
        --exclude-checks positive_data_acceptance \
        --phases examples,coverage,fuzzing,stateful \
        --workers 1 \
        --request-timeout 30 \
        --generation-database none \
        --no-color \
        --report junit --report-junit-path "$name.xml" \
        "$@")
}

seed=()
if [ -n "${RATEDECK_FUZZ_SEED:-}" ]; then
    seed=(--seed "$RATEDECK_FUZZ_SEED")
fi

status=0
# Everything but logging out, which would end the token the run uses.
echo "== schemathesis: every operation but /api/logout, $budget s"
run main "${seed[@]}" --max-time "$budget" -H "Authorization: Bearer $token" \
    --exclude-path /api/logout || status=1
# Logging out, on a token of its own.
echo "== schemathesis: /api/logout"
run logout "${seed[@]}" --max-time 30 --max-examples 20 -H "Authorization: Bearer $(login)" \
    --include-path /api/logout || status=1

if ! kill -0 "$server" 2>/dev/null; then
    echo "the server died during the run:"
    tail -n 50 "$out/server.log"
    status=1
fi
if grep -q "request panicked" "$out/server.log"; then
    echo "the server logged panics:"
    grep "request panicked" "$out/server.log" | head -n 20
    status=1
fi
exit "$status"
