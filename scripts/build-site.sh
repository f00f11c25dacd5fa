#!/usr/bin/env bash
# Builds the portal's browser side into target/site, where the server serves
# it from (LEPTOS_SITE_ROOT):
#   target/site/pkg/ratedeck.js, ratedeck_bg.wasm  the hydrate entry (frontend crate)
#   target/site/pkg/ratedeck.css                   style/main.css
#   target/site/*                                  public/
#
# Usage: scripts/build-site.sh [--release]
# --release builds the wasm with the size-optimised `wasm-release` profile and
# shrinks it with wasm-opt; without it, a debug build (quicker to compile, for
# tests). Needs the wasm32 target, wasm-bindgen-cli and, for --release,
# binaryen's wasm-opt: scripts/setup-tools.sh installs them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

profile="dev"
profile_dir="debug"
if [ "${1:-}" = "--release" ]; then
    profile="wasm-release"
    profile_dir="wasm-release"
fi

site="target/site"
pkg="$site/pkg"
name="ratedeck"

cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile"

rm -rf "$pkg"
mkdir -p "$pkg"
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name "$name" \
    "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/$profile_dir/frontend.wasm"

if [ "$profile" = "wasm-release" ]; then
    # npm's binaryen (end2end/node_modules/.bin): Debian's older wasm-opt
    # produces a module that fails to hydrate.
    wasm_opt="$root/end2end/node_modules/.bin/wasm-opt"
    "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
        "$pkg/${name}_bg.wasm" -o "$pkg/${name}_bg.wasm"
fi

cp style/main.css "$pkg/$name.css"
cp -r public/. "$site/"
printf 'site built in %s (%s wasm: %s bytes)\n' "$site" "$profile" \
    "$(stat -c %s "$pkg/${name}_bg.wasm")"
