# Passport. `make run` serves on http://localhost:8080 with a demo account and client;
# `make test` runs vet and every test against a real local PostgreSQL. Both set up what a
# fresh Debian machine lacks (PostgreSQL, and Go itself through the Go module proxy).

SHELL := /bin/bash
GO    ?= $(shell scripts/ensure-go.sh)
# The development secret is per user, not per checkout: every checkout on this machine shares
# the local `passport` database, whose signing keys are encrypted under it.
DEV_SECRET := $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/passport/dev-secret-key
export PASSPORT_TEST_DATABASE_URL ?= postgres://passport:passport@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: run test db browser build lint clean bench bench-members bench-import

## run: bring up PostgreSQL, migrate, create the demo account and client, serve on :8080
run: db build $(DEV_SECRET)
	@PASSPORT_SECRET_KEY=$$(cat $(DEV_SECRET)) ./bin/passport migrate
	@PASSPORT_SECRET_KEY=$$(cat $(DEV_SECRET)) ./bin/passport demo
	PASSPORT_SECRET_KEY=$$(cat $(DEV_SECRET)) PASSPORT_LOG_FORMAT=text PASSPORT_DEV_ASSETS_DIR=$(CURDIR) \
		PASSPORT_DEV_MESSAGES_PAGE=true PASSPORT_SIGNUP_ENABLED=true exec ./bin/passport serve

## test: bring up PostgreSQL (and Chromium for the page tests), then go vet and go test
test: db browser
	$(GO) vet ./...
	$(GO) test -count=1 ./...

## browser: install Debian's chromium when it is missing (page tests drive it headless)
browser:
	@scripts/browser-up.sh

## db: install/start the local PostgreSQL and create the passport role and database
db:
	@scripts/db-up.sh

build:
	$(GO) build -o bin/passport ./cmd/passport

## bench: start `passport serve` pinned to one CPU, load every hot path from cmd/passport-bench,
## print a table per scenario (also written to bench-results/), then the member list at
## 100,000 accounts (cmd/passport-bench-members), then run the micro-benchmarks
BENCH_FLAGS ?= -duration 10s -warmup 2s -concurrency 32
bench: db build
	$(GO) build -o bin/passport-bench ./cmd/passport-bench
	@if command -v taskset >/dev/null && [ "$$(nproc)" -ge 2 ]; then \
		taskset -c 0 bin/passport-bench -server bin/passport -cpu 1 $(BENCH_FLAGS); \
	else \
		echo "bench: taskset or a second CPU is missing: the server is NOT pinned to one CPU"; \
		bin/passport-bench -server bin/passport -cpu "" $(BENCH_FLAGS); \
	fi
	@$(MAKE) --no-print-directory bench-members
	@$(MAKE) --no-print-directory bench-import
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/passport ./internal/oidc ./internal/postgres ./internal/jobs ./internal/i18n

## bench-members: the admin member list at 100,000 accounts, per page (p50/p95/p99), for the
## account action and through the admin API on a server pinned to one CPU (bench-results/members-latest.md)
MEMBERS_FLAGS ?= -duration 5s -warmup 1s -concurrency 4
bench-members: db build
	$(GO) build -o bin/passport-bench-members ./cmd/passport-bench-members
	@if command -v taskset >/dev/null && [ "$$(nproc)" -ge 2 ]; then \
		taskset -c 0 bin/passport-bench-members -server bin/passport -cpu 1 $(MEMBERS_FLAGS); \
	else \
		echo "bench-members: taskset or a second CPU is missing: the server is NOT pinned to one CPU"; \
		bin/passport-bench-members -server bin/passport -cpu "" $(MEMBERS_FLAGS); \
	fi

## bench-import: a CSV import of 10,000 members (half with login details) through the
## import job's runner against PostgreSQL; the goal is under a minute (issue 13)
bench-import: db
	$(GO) test -run '^$$' -bench Import10000 -benchtime 1x ./internal/account

## lint: formatting, a tidy go.mod, the Go client generated from docs/openapi.yaml, vet and staticcheck (pinned; fetched through the module proxy)
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt -w these:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) mod tidy -diff
	$(GO) generate ./pkg/...
	@git diff --exit-code -- pkg/ || { echo "pkg/ differs from docs/openapi.yaml: commit the regenerated client"; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# A development secret, made once per user; production sets PASSPORT_SECRET_KEY itself.
$(DEV_SECRET):
	@mkdir -p $(dir $@) && umask 077 && head -c 32 /dev/urandom | base64 > $@

clean:
	rm -rf bin
