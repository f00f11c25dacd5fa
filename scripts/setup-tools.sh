#!/usr/bin/env bash
# Installs what building, running and testing Ratedeck needs, skipping what is
# already present: the wasm32 target, wasm-bindgen-cli (same version as the
# wasm-bindgen crate in Cargo.lock), the browser-test npm packages (Playwright,
# binaryen's wasm-opt and terser), Debian's chromium, brotli and zopfli.
#
# Every tool comes from a package registry; nothing is downloaded from elsewhere.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

WASM_BINDGEN_VERSION="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p' | head -n1)"
WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-0.2.130}"

log() { printf '[setup] %s\n' "$*"; }

# Unpacks a crate's published source into a fresh directory and prints its path.
crate_source() {
    local name="$1" version="$2" dir
    dir="$(mktemp -d)"
    (cd "$dir" && cargo info "$name@$version" >/dev/null 2>&1 || true)
    local src
    src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$name-$version" 2>/dev/null | head -n1)"
    if [ -z "$src" ]; then
        echo "could not obtain the source of $name $version from the registry" >&2
        return 1
    fi
    cp -r "$src" "$dir/src-copy"
    echo "$dir/src-copy"
}

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes, once per machine)"
    src="$(crate_source wasm-bindgen-cli "$WASM_BINDGEN_VERSION")"
    # The published lockfile pins a webpki-roots release the registry no longer serves.
    (cd "$src" && cargo update -p webpki-roots --precise 1.0.10 >/dev/null 2>&1 || true)
    cargo install --path "$src" --locked --force
fi

if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -x end2end/node_modules/.bin/terser ] ||
    [ ! -d end2end/node_modules/playwright-core ]; then
    log "installing the end-to-end npm packages (Playwright, binaryen, terser)"
    (cd end2end && npm ci --no-audit --no-fund)
fi

if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if ! command -v brotli >/dev/null; then
    log "installing Debian's brotli (the site's files are precompressed with it)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq brotli >/dev/null
fi

if ! command -v zopfli >/dev/null; then
    log "installing Debian's zopfli (a release site's gzip files are made with it)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    # Optional: without it a release site's gzip files come from gzip -9.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq zopfli >/dev/null 2>&1 ||
        { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq zopfli >/dev/null; } ||
        log "zopfli could not be installed: release gzip files will come from gzip -9"
fi

log "tools ready"
