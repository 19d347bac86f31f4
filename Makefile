# Diminuendo. `make run` starts the gateway with its embedded simulated
# upstreams; `make test` runs the whole suite (formatting, vet, race tests).
GO        ?= go
GOFLAGS   ?=
PKGS      := ./...
RUN_ENV   := DEV_MODE=true HOST=127.0.0.1 PORT=$${PORT:-8080}


.PHONY: bench-smoke
.PHONY: deps run build test fmt-check vet generate generate-check bench load tools sim idp clean

run: ## the gateway in dev mode on 127.0.0.1 with embedded simulators
	$(RUN_ENV) $(GO) run ./cmd/diminuendo

build:
	$(GO) build -o bin/ ./cmd/...

test: deps fmt-check vet generate-check bench-smoke ## everything CI checks
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	$(MAKE) --no-print-directory ts-test examples-ts examples-go web-check web-test acp-test soak-smoke storm-smoke budget-smoke k8s-check

deps: ## what the suite needs: Debian packages (apt-get as root), Go modules, npm ci
	@scripts/test-deps.sh

bench-smoke: ## every benchmark runs once, so none rots between `make bench` runs
	@out=$$($(GO) test -run '^$$' -bench . -benchtime 1x -timeout 5m $(PKGS) 2>&1) || { echo "$$out"; exit 1; }; \
	echo "benchmarks: all ran once"

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

generate: ## regenerate api/ from openapi.yaml
	$(GO) generate ./api/...

generate-check: generate ## regeneration must leave no diff
	@git diff --exit-code --stat -- api/ || (echo "api/ is stale: run make generate and commit"; exit 1)

bench: ## every Go benchmark in the module; figures go to docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchmem -count 1 $(PKGS)

load: build ## the load tools against bin/diminuendo, small sizes (under a minute); see docs/benchmarks.md
	$(GO) build -o bin/ ./bench/conns ./bench/fanout ./bench/floor
	bin/conns -gateway bin/diminuendo -n 1000
	bin/conns -gateway bin/diminuendo -n 1000 -idp
	bin/fanout -gateway bin/diminuendo -floor bin/floor -batch both -sessions 20 -clients 5 -turns 3
	bin/fanout -gateway bin/diminuendo -floor bin/floor -batch both -sessions 20 -clients 5 -turns 3 -step-delay 1ms

sim: ## the four simulated upstreams as a separate process
	$(GO) run ./cmd/fabric-sim

idp: ## a local identity provider for non-dev runs
	$(GO) run ./cmd/mint-token -serve 127.0.0.1:8081 -key data/idp-key.pem

# --- Local development loop: .env, hot-reloading gateway, web dev server ---
.PHONY: setup dev
setup: ## write .env from .env.example (or from AWS SSM with SSM_PREFIX=/diminuendo/dev)
	scripts/setup.sh

dev: ## gateway in dev mode on 127.0.0.1:8001 under air, Vite on localhost:5173; Ctrl-C stops both
	scripts/dev.sh

clean:
	rm -rf bin data

# ---- TypeScript client (clients/typescript) and its example (examples/typescript) ----
# Node 20 and npm; packages are installed from the committed package-lock.json.
TS_DIR      := clients/typescript
TS_EXAMPLE  := examples/typescript

.PHONY: ts-deps ts-generate ts-generate-check ts-test examples-ts

ts-deps: $(TS_DIR)/node_modules/.package-lock.json ## the TS client's npm packages (npm ci when the lockfile changed)

$(TS_DIR)/node_modules/.package-lock.json: $(TS_DIR)/package.json $(TS_DIR)/package-lock.json
	cd $(TS_DIR) && npm ci --no-audit --no-fund
	@touch $@

generate: ts-generate
generate-check: ts-generate-check

ts-generate: ts-deps ## regenerate clients/typescript/src/generated from openapi.yaml
	npm --prefix $(TS_DIR) run --silent generate

ts-generate-check: ts-generate
	@git diff --exit-code --stat -- $(TS_DIR)/src/generated || (echo "$(TS_DIR)/src/generated is stale: run make generate and commit"; exit 1)

ts-test: ts-deps ## typecheck, build and test the TS client against gateways (local IdP, fabric-sim) built from this checkout
	$(GO) build -o bin/ ./cmd/diminuendo ./cmd/mint-token ./cmd/fabric-sim
	npm --prefix $(TS_DIR) run --silent typecheck
	cd $(TS_DIR) && DIMINUENDO_BIN=$(CURDIR)/bin/diminuendo DIMINUENDO_MINT_TOKEN_BIN=$(CURDIR)/bin/mint-token \
		DIMINUENDO_FABRIC_SIM_BIN=$(CURDIR)/bin/fabric-sim npm test

$(TS_EXAMPLE)/node_modules/.package-lock.json: $(TS_EXAMPLE)/package.json $(TS_EXAMPLE)/package-lock.json
	cd $(TS_EXAMPLE) && npm ci --no-audit --no-fund
	@touch $@

examples-ts: ts-deps $(TS_EXAMPLE)/node_modules/.package-lock.json ## the TypeScript example, run by Node against a gateway of its own
	$(GO) build -o bin/diminuendo ./cmd/diminuendo
	npm --prefix $(TS_DIR) run --silent build
	DIMINUENDO_BIN=$(CURDIR)/bin/diminuendo $(TS_EXAMPLE)/run.sh

# ---- contract: the frame schema check's tally ----
# `make test` already fails when an end-to-end frame does not match
# openapi.yaml; this runs the suite once more only to print the tally.
.PHONY: frame-check
frame-check: ## the end-to-end suite with every frame validated against openapi.yaml; prints the tally
	@out=$$($(GO) test -count=1 -v -timeout 15m ./e2e/ 2>&1); rc=$$?; \
	echo "$$out" | grep -E '^(--- FAIL|FAIL|ok)|frame schema check|does not match'; exit $$rc

# Go consumers: the example module under examples/go imports the client by
# its module path and runs a turn against a gateway started by gatewaytest.
.PHONY: examples-go
examples-go: ## the Go example module's tests
	cd examples/go && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 5m ./...

# --- web client (web/): Vite + React build embedded in the binary, and its browser tests ---
.PHONY: web-deps web-build web-check web-test
WEB_NPM := cd web && npm

web-deps: web/node_modules/.package-lock.json ## the web client's npm packages (npm ci when missing or the lockfile changed)

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	$(WEB_NPM) ci --no-audit --no-fund
	@touch $@

web-build: web-deps ## type-check and rebuild web/dist, which the binary embeds
	$(WEB_NPM) run build

web-check: web-build ## web/dist must be what the sources build: a stale build fails
	@node -e 'const w=require("./web/package.json").dependencies["openapi-fetch"], c=require("./clients/typescript/package.json").dependencies["openapi-fetch"]; if (w!==c) { console.error("web/package.json pins openapi-fetch "+w+", clients/typescript "+c+": pin the same"); process.exit(1); }'
	@git diff --exit-code --stat -- web/dist || { echo "web/dist is stale: run make web-build and commit"; exit 1; }
	@extra=$$(git ls-files --others --exclude-standard -- web/dist); \
	if [ -n "$$extra" ]; then echo "web/dist has files not committed:"; echo "$$extra"; exit 1; fi

web-test: web-deps ## the browser tests (Playwright, the system chromium) against the gateway binary
	@# A free loopback port unless one is given: another gateway on the
	@# default port must not fail the run.
	cd web && WEB_TEST_PORT=$${WEB_TEST_PORT:-$$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')} \
		npx playwright test

# Kubernetes manifests (deploy/k8s): strictly decoded into the Kubernetes API
# types by a module of their own, so k8s.io/api stays out of the gateway's.
.PHONY: k8s-check
k8s-check: ## validate deploy/k8s's kustomize base and overlays
	cd deploy/k8s && $(GO) vet ./... && $(GO) test -count=1 ./...

# ---- ACP (GET /acp, cmd/diminuendo-acp) driven by the official ACP SDK ----
# clients/acp-tests pins @agentclientprotocol/sdk; every message the
# gateway sends on /acp is validated against the schema the SDK ships,
# and the count is printed. The gateway and the bridge are built with
# -race, so the tests also run them under the race detector.
ACP_DIR := clients/acp-tests

.PHONY: acp-test

$(ACP_DIR)/node_modules/.package-lock.json: $(ACP_DIR)/package.json $(ACP_DIR)/package-lock.json
	cd $(ACP_DIR) && npm ci --no-audit --no-fund
	@touch $@

acp-test: $(ACP_DIR)/node_modules/.package-lock.json ## the ACP SDK drives /acp and the stdio bridge (Node 20)
	$(GO) build -race -o bin/acp-race/ ./cmd/diminuendo ./cmd/diminuendo-acp
	$(GO) build -o bin/ ./cmd/mint-token ./cmd/fabric-sim
	@rm -f bin/acp-tally
	cd $(ACP_DIR) && DIMINUENDO_BIN=$(CURDIR)/bin/acp-race/diminuendo DIMINUENDO_MINT_TOKEN_BIN=$(CURDIR)/bin/mint-token \
		DIMINUENDO_FABRIC_SIM_BIN=$(CURDIR)/bin/fabric-sim DIMINUENDO_ACP_BIN=$(CURDIR)/bin/acp-race/diminuendo-acp \
		ACP_TALLY=$(CURDIR)/bin/acp-tally npm test
	@awk '{n += $$2} END {print "ACP schema check: " n " messages from the gateway validated against the SDK schema"}' bin/acp-tally

# ---- fuzzing: each target for FUZZTIME (their seed corpora already run in `make test`) ----
# `go test -fuzz` takes one target per run, so each gets its own invocation.
FUZZTIME    ?= 30s
FUZZ_TARGETS := FuzzDispatch:./adapters/ws FuzzFrameGuard:./adapters/ws FuzzRESTBodies:./adapters/http FuzzLastEventID:./adapters/http FuzzWindow:./domain FuzzMapUpstream:./domain FuzzEncodeUpstream:./domain FuzzReadUpstream:./domain

.PHONY: fuzz
fuzz: ## every fuzz target for FUZZTIME each (default 30s); a finding is kept under the package's testdata/fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# ---- soak, reconnect storm and sizing budget (bench/soak, bench/storm, bench/budget; see docs/benchmarks.md) ----
# All start bin/fabric-sim and bin/diminuendo as separate processes on loopback.
.PHONY: soak-smoke storm-smoke soak storm budget-smoke budget
SOAK_BINS := ./cmd/diminuendo ./cmd/fabric-sim ./bench/soak ./bench/storm ./bench/budget

soak-smoke: ## the soak tool for 12 s at a small size (about 15-20 s in all)
	$(GO) build -o bin/ $(SOAK_BINS)
	bin/soak -duration 12s -sessions 10 -clients 3

storm-smoke: ## a reconnect storm of 100 clients (about 10-15 s)
	$(GO) build -o bin/ $(SOAK_BINS)
	bin/storm -sessions 20 -clients 5 -warm 3s

soak: ## the recorded 30-minute soak: 50 sessions, 200 connections
	$(GO) build -o bin/ $(SOAK_BINS)
	bin/soak -duration 30m

storm: ## the recorded reconnect storm: 1000 sessions x 5 clients, 3 runs
	$(GO) build -o bin/ $(SOAK_BINS)
	bin/storm -sessions 1000 -clients 5 -runs 3

budget-smoke: ## the sizing-budget workload at 200 connections, 100 sessions, 20 streaming turns (about 15 s)
	$(GO) build -o bin/ $(SOAK_BINS)
	bin/budget -conns 200 -sessions 100 -turns 20 -warmup 2s -duration 4s -settle 1s

budget: ## the sizing budget: 10,000 token-authenticated connections, 5,000 sessions, 1,000 streaming turns, 3 runs
	$(GO) build -o bin/ $(SOAK_BINS)
	bin/budget -conns 10000 -sessions 5000 -turns 1000 -runs 3
