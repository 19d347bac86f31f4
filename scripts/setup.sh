#!/usr/bin/env bash
# Writes .env for a local run of the gateway.
#
#   scripts/setup.sh [--force] [--ssm-prefix PREFIX | PREFIX]
#
# By default .env is a copy of .env.example. With a parameter prefix (the
# argument, --ssm-prefix, or SSM_PREFIX in the environment, e.g.
# /diminuendo/dev) and the aws CLI on PATH, the values come from the AWS SSM
# parameters under that prefix instead: the parameter PREFIX/AUTH0_DOMAIN
# sets AUTH0_DOMAIN, decrypted; variables without a parameter keep the
# .env.example line. The aws CLI uses its usual credentials and region.
#
# An existing .env is never overwritten without asking: on a terminal the
# script asks, otherwise it stops unless --force is given.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
example="$root/.env.example"
target="$root/.env"
force=false
prefix="${SSM_PREFIX:-}"

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    -f | --force) force=true ;;
    --ssm-prefix) prefix="${2:?--ssm-prefix needs a value}"; shift ;;
    --ssm-prefix=*) prefix="${1#*=}" ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "setup.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) prefix="$1" ;;
  esac
  shift
done

[ -f "$example" ] || { echo "setup.sh: $example is missing" >&2; exit 1; }

if [ -e "$target" ] && ! $force; then
  if [ -t 0 ]; then
    printf '%s exists. Overwrite it? [y/N] ' "$target"
    read -r answer || answer=""
    case "$answer" in
      y | Y | yes | YES) ;;
      *) echo "kept $target"; exit 1 ;;
    esac
  else
    echo "setup.sh: $target exists; not overwriting it without a terminal to ask (use --force)" >&2
    exit 1
  fi
fi

# quote writes a value the way godotenv reads it back verbatim: single
# quotes when it has none, else double quotes with \ " $ escaped.
quote() {
  local v="$1"
  if [[ "$v" != *"'"* ]]; then
    printf "'%s'" "$v"
  else
    v="${v//\\/\\\\}"; v="${v//\"/\\\"}"; v="${v//\$/\\\$}"
    printf '"%s"' "$v"
  fi
}

tmp="$(mktemp "$root/.env.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
chmod 600 "$tmp" # it may hold secrets

if [ -n "$prefix" ] && command -v aws >/dev/null 2>&1; then
  prefix="/${prefix#/}"; prefix="${prefix%/}"
  # One "name<TAB>value" line per parameter; the CLI follows the pages itself.
  params="$(aws ssm get-parameters-by-path --path "$prefix" --with-decryption \
    --query 'Parameters[].[Name,Value]' --output text)" || {
    echo "setup.sh: reading SSM parameters under $prefix failed; .env not written" >&2
    exit 1
  }
  declare -A value=()
  while IFS=$'\t' read -r name val; do
    [ -n "$name" ] || continue
    key="${name##*/}"
    if [[ ! "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]]; then
      echo "setup.sh: skipping parameter $name: not a variable name" >&2
      continue
    fi
    value[$key]="$val"
  done <<<"$params"
  if [ "${#value[@]}" -eq 0 ]; then
    echo "setup.sh: no SSM parameters under $prefix; .env not written" >&2
    exit 1
  fi
  {
    echo "# Written by scripts/setup.sh from the SSM parameters under $prefix."
    declare -A seen=()
    # The example's layout and comments, with each variable SSM has set
    # (commented out in the example or not) carrying the parameter's value.
    while IFS= read -r line || [ -n "$line" ]; do
      if [[ "$line" =~ ^#?\ ?([A-Z_][A-Z0-9_]*)= ]] && [ -n "${value[${BASH_REMATCH[1]}]+set}" ]; then
        key="${BASH_REMATCH[1]}"
        if [ -z "${seen[$key]+set}" ]; then
          echo "$key=$(quote "${value[$key]}")"
          seen[$key]=1
        fi
        continue
      fi
      echo "$line"
    done <"$example"
    for key in $(printf '%s\n' "${!value[@]}" | sort); do
      [ -n "${seen[$key]+set}" ] || echo "$key=$(quote "${value[$key]}")"
    done
  } >"$tmp"
  source="${#value[@]} SSM parameters under $prefix"
else
  if [ -n "$prefix" ]; then
    echo "setup.sh: no aws CLI on PATH; ignoring the SSM prefix $prefix" >&2
  fi
  cat "$example" >"$tmp"
  source=".env.example"
fi

mv "$tmp" "$target"
trap - EXIT
echo "wrote $target from $source"
