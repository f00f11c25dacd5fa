#!/usr/bin/env bash
# Runs every check of Ratedeck: formatting, lints, the unit and API tests on
# SQLite and on PostgreSQL, the wasm build and the browser test.
# `.ci/run` calls exactly this.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }
started=$(date +%s)

step "tools"
scripts/setup-tools.sh

step "PostgreSQL"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

step "formatting"
cargo fmt --all -- --check

step "lints (server side)"
cargo clippy -p model -p rating -p billing -p app -p server -p split-wasm --features app/ssr --all-targets -- -D warnings

step "lints (browser side)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "unit and API tests (SQLite and PostgreSQL)"
cargo test -p model -p rating -p billing -p app -p server -p split-wasm --features app/ssr

step "API fuzzing (schemathesis, bounded)"
# The server binary is the one `cargo test` built above. The seed is pinned
# so that this pass is repeatable; `scripts/fuzz.sh` alone draws a new one.
RATEDECK_FUZZ_SEED="${RATEDECK_FUZZ_SEED:-79476349784863647338408786045472931771}" scripts/fuzz.sh 120

step "wasm build"
scripts/build-site.sh

step "browser test"
# The server binary is the one `cargo test` built above for the API tests.
rm -rf target/e2e && mkdir -p target/e2e
(
    export RATEDECK_ADMIN_PASSWORD="${RATEDECK_ADMIN_PASSWORD:-admin-password-123}"
    export DATABASE_URL="sqlite://target/e2e/ratedeck.db"
    export RATEDECK_LISTEN="127.0.0.1:8887"
    # The webhook spec's receiver listens on 127.0.0.1.
    export RATEDECK_WEBHOOK_PRIVATE_TARGETS=true
    export LEPTOS_OUTPUT_NAME="ratedeck" LEPTOS_SITE_ROOT="target/site" LEPTOS_SITE_PKG_DIR="pkg"
    target/debug/ratedeck >target/e2e/server.log 2>&1 &
    server=$!
    trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
    cd end2end
    ./node_modules/.bin/playwright test
) || { echo "browser test failed; the server's log:"; tail -n 50 target/e2e/server.log; exit 1; }

printf '\nall checks passed in %d s\n' "$(( $(date +%s) - started ))"
