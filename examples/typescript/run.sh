#!/usr/bin/env bash
# Runs the example against a gateway of its own: starts the gateway binary
# (DIMINUENDO_BIN, or one built from this checkout) in dev mode on a free
# loopback port, runs main.mjs, and checks that the turn completed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
gw_pid=""
cleanup() {
	if [ -n "$gw_pid" ]; then
		kill "$gw_pid" 2>/dev/null || true
		wait "$gw_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

bin=${DIMINUENDO_BIN:-}
if [ -z "$bin" ]; then
	bin="$work/diminuendo"
	(cd "$root" && go build -o "$bin" ./cmd/diminuendo)
fi

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

# The scratch directory is the working directory, so no .env is read.
(cd "$work" && exec env -i PATH="$PATH" DEV_MODE=true HOST=127.0.0.1 PORT="$port" SIM_STEP_DELAY=1ms \
	SHUTDOWN_DRAIN=1s LOG_LEVEL=warn DATA_DIR="$work/data" "$bin") >"$work/gateway.log" 2>&1 &
gw_pid=$!

for _ in $(seq 1 300); do
	if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
	if ! kill -0 "$gw_pid" 2>/dev/null; then cat "$work/gateway.log"; echo "gateway exited" >&2; exit 1; fi
	sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/gateway.log"; echo "gateway not ready" >&2; exit 1; }

out="$work/example.out"
DIMINUENDO_URL="ws://127.0.0.1:$port/ws" timeout 60 node "$here/main.mjs" | tee "$out"
grep -q ' turn_complete$' "$out" || { echo "the example printed no turn_complete" >&2; exit 1; }
echo "examples/typescript: ok"
