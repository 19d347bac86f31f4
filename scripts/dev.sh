#!/usr/bin/env bash
# make dev: the gateway in dev mode on 127.0.0.1:8001, rebuilt and restarted
# by air on every Go change, and the web client's Vite dev server on
# localhost:5173, which proxies /api and /ws to the gateway. Ctrl-C (or
# SIGTERM, or either one exiting) stops both.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export DEV_MODE=true HOST=127.0.0.1 PORT="${DEV_PORT:-8001}"
# A restart should not wait out the production drain.
export SHUTDOWN_DRAIN="${SHUTDOWN_DRAIN:-1s}"
export GATEWAY_URL="http://127.0.0.1:$PORT" # where vite.config.ts proxies

if [ ! -d web/node_modules ]; then
  (cd web && npm ci --no-audit --no-fund)
fi

# Each child runs in a process group of its own (job control), so one
# signal reaches air with the gateway it started, and Vite with its
# workers. Their stdin is /dev/null: a background group reading the
# terminal would be stopped.
gateway="$root/bin/dev/diminuendo" # what air builds and runs (.air.toml)
set -m
go tool -modfile=tools/go.mod air -c .air.toml </dev/null &
air=$!
(cd web && exec node_modules/.bin/vite --host localhost --port 5173 --strictPort) </dev/null &
vite=$!
set +m

stop() {
  trap - INT TERM EXIT
  for pgid in "$air" "$vite"; do
    kill -INT -- "-$pgid" 2>/dev/null || true
  done
  # air gives the gateway kill_delay to exit; after that, nothing survives.
  for _ in $(seq 50); do
    kill -0 -- "-$air" 2>/dev/null || kill -0 -- "-$vite" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$air" "-$vite" 2>/dev/null || true
  # air runs the gateway in a process group of its own, and a Ctrl-C that
  # lands while air is restarting it can leave the new one behind.
  pkill -INT -x -f "$gateway" 2>/dev/null || true
  for _ in $(seq 30); do
    pgrep -x -f "$gateway" >/dev/null || break
    sleep 0.1
  done
  pkill -KILL -x -f "$gateway" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

echo "make dev: gateway http://127.0.0.1:$PORT (air), web client http://localhost:5173 (Vite); Ctrl-C stops both"
# Whichever ends first ends the other.
wait -n "$air" "$vite" || true
