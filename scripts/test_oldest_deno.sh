#!/usr/bin/env bash
# Runs serve.ts's start-and-stop tests (tests/deploy_start_test.ts) and the
# log batch's flush-before-exit tests (tests/process/log_flush_test.ts) on the
# oldest Deno this service supports, given as $1 (`deno task test:oldest-deno`
# passes it: the one place deno.json states the lower bound). Deno Deploy
# chooses the Deno version, and its runtime page documents 2.5.0.
#
# That Deno is installed from the npm registry into a cache directory when
# missing; the tests themselves run on the current Deno and start serve.ts
# with the old one (DENO_BIN), under `deno serve` and as Deploy starts it.
set -euo pipefail
version="${1:?usage: test_oldest_deno.sh VERSION}"
cd "$(dirname "$0")/.."

prefix="${XDG_CACHE_HOME:-$HOME/.cache}/genesys-weather-action/deno-${version}"
find_binary() {
  # The platform package carries the real binary; deno/bin.cjs is only a Node wrapper.
  find "$prefix/node_modules/@deno" "$prefix/node_modules/deno" \
    -maxdepth 2 -type f -name deno -perm -u+x 2>/dev/null | head -n 1 || true
}
binary="$(find_binary)"
if [[ -z "$binary" ]]; then
  echo "Installing deno@${version} from the npm registry into $prefix"
  npm install --no-save --prefix "$prefix" "deno@${version}" >/dev/null
  binary="$(find_binary)"
fi
"$binary" --version | head -n 1 | grep -q "^deno ${version} " ||
  { echo "No deno ${version} binary under $prefix"; exit 1; }

# That Deno fetches npm metadata itself (its cache format differs), and here it
# needs the system's CA store to trust the registry, as the current Deno does.
DENO_TLS_CA_STORE="${DENO_TLS_CA_STORE:-system}" DENO_BIN="$binary" \
  deno test --allow-all tests/deploy_start_test.ts tests/process/log_flush_test.ts
