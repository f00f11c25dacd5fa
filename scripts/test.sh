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
cargo clippy -p model -p rating -p billing -p app -p server --features app/ssr --all-targets -- -D warnings

step "lints (browser side)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "unit and API tests (SQLite and PostgreSQL)"
cargo test -p model -p rating -p billing -p server

step "wasm build and browser test"
rm -rf target/e2e && mkdir -p target/e2e
export RATEDECK_ADMIN_PASSWORD="${RATEDECK_ADMIN_PASSWORD:-admin-password-123}"
export DATABASE_URL="sqlite://target/e2e/ratedeck.db"
export PATH="$root/end2end/node_modules/.bin:$PATH"
cargo leptos end-to-end

printf '\nall checks passed in %d s\n' "$(( $(date +%s) - started ))"
