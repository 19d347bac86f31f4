#!/usr/bin/env bash
# Installs what `make test` needs on a fresh machine, or names what is missing.
# Debian packages are installed with apt-get when running as root; otherwise
# the script stops with one line naming the package and the command.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "make test: $*" >&2; exit 1; }

# Commands the suite runs, and the Debian package that brings each.
declare -A pkg=([nginx]=nginx-light [chromium]=chromium [node]=nodejs [npm]=npm)
missing=()
for cmd in nginx chromium node npm; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    fail "missing ${missing[*]}: run 'sudo apt-get install ${missing[*]}'"
  fi
fi

command -v go >/dev/null 2>&1 || fail "missing Go 1.26: install it from the Go distribution"
go mod download
go mod download -modfile=tools/go.mod

# npm ci wherever a lockfile is committed, unless node_modules already
# matches it (npm writes node_modules/.package-lock.json on install).
for dir in clients/typescript web examples/typescript clients/acp-tests; do
  [ -f "$dir/package-lock.json" ] || continue
  stamp="$dir/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    echo "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed in $dir"
  fi
done
echo "test dependencies: ready"
