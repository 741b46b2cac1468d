# Developer entry points. Each target is a thin wrapper: the logic lives in
# scripts/ so that CI (.ci/run, which needs no make) runs exactly the same
# checks. `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := all

GO ?= go
# Loops over modules (the library at the root plus nested bench/ and
# raftexample/ once they exist) use go_modules from scripts/lib.sh, the same
# list .ci/run uses.
IN_EACH_MODULE := source scripts/lib.sh && for m in $$(go_modules); do echo "== module $$m"; cd "$$ROOT/$$m" &&
# buf, pinned in tools/buf/go.mod; `go tool` builds it on first use (several
# minutes, once) and caches it. Override with BUF=buf to use one on PATH.
BUF ?= $(GO) tool -modfile=$(CURDIR)/tools/buf/go.mod buf

# Knobs: make bench BENCH=Quorum COUNT=6; make fuzz-smoke FUZZTIME=30s.
BENCH ?= .
BENCHTIME ?= 1s
COUNT ?= 1
FUZZTIME ?= 5s
# Extra arguments for the demo program: make demo ARGS="-nodes 5".
ARGS ?=

.PHONY: all help test lint fmt generate check-generated bench fuzz-smoke demo ci

all: lint check-generated test ## lint, generated-code check and tests

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 18

test: ## run all tests with the race detector in every module (scripts/test.sh)
	@scripts/test.sh

lint: ## gofmt check, go vet and staticcheck (pinned in tools/go.mod)
	@scripts/lint.sh

fmt: ## gofmt -w every Go file
	@source scripts/lib.sh && go_files | xargs -r gofmt -l -w

generate: ## regenerate raftpb/*.pb.go from raftpb/*.proto with buf
	@echo "buf lint + buf generate (the first run builds buf from tools/buf/go.mod, ~6 min)"
	$(BUF) lint
	$(BUF) generate

check-generated: ## fail if raftpb/*.pb.go is stale (needs protoc: apt-get install protobuf-compiler)
	@scripts/check-generated.sh

bench: ## run benchmarks with allocation counts (BENCH=regexp COUNT=n BENCHTIME=d)
	@$(IN_EACH_MODULE) $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./...; done

fuzz-smoke: ## run every Fuzz* target for FUZZTIME each
	@FUZZTIME=$(FUZZTIME) scripts/fuzz-smoke.sh

# The main job: the example key-value cluster (raftexample/), three nodes on
# loopback with their data under ./raftexample-data.
demo: ## start the example 3-node key-value cluster (go run ./raftexample)
	$(GO) run ./raftexample $(ARGS)

ci: ## what CI runs (.ci/run; installs protoc with apt-get if missing)
	@bash .ci/run
