#!/usr/bin/env bash
# test.sh sets up the machine (scripts/setup.sh) and runs every check: gofmt,
# go vet, staticcheck, and all unit and integration tests against the real
# PostgreSQL, RabbitMQ, Redis, Python Celery worker and embedded Hatchet engine.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
command -v go >/dev/null || { echo "test: Go 1.26+ is required (https://go.dev/dl/)" >&2; exit 1; }

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "test: gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi

# Integration tests (*_integration_test.go) build only with this tag.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=integration"
go vet ./...
go tool staticcheck ./... # pinned in go.mod (tool directive)
# One package at a time: the integration tests share the machine's one
# PostgreSQL (100 connections) and RabbitMQ, and each package starts its own
# Hatchet engine and Celery workers. The packages that do not link the
# Hatchet engine run under the race detector (building the engine with -race
# alone takes minutes); the rest run without it.
# Databases and queues the tests create are theirs to remove: what is on the
# servers after the run and was not before is reported, and fails the run.
resources() {
	psql -h 127.0.0.1 -U postgres -Atc 'SELECT datname FROM pg_database' 2>/dev/null | sed 's/^/database /'
	rabbitmqctl -q list_queues name 2>/dev/null | sed 's/^/queue /'
	rabbitmqctl -q list_vhosts name 2>/dev/null | sed 's/^/vhost /'
}
before=$(resources | sort)
leftovers() {
	local left
	left=$(comm -13 <(echo "$before") <(resources | sort))
	if [ -n "$left" ]; then
		echo "test: left behind by the tests:" >&2
		echo "$left" >&2
		return 1
	fi
}
race=(./shim/celerybridge ./featureflag ./helpers/... ./internal/config ./internal/jsonnum ./internal/logging ./internal/ops ./internal/pgdb)
go test -p 1 -count=1 -timeout 15m -race "$@" "${race[@]}"
mapfile -t rest < <(go list ./... | grep -vxF -f <(go list "${race[@]}"))
# The service's own tests (cmd/hatchet-worker) start and stop the binary dozens
# of times, each stop handing the worker over to the engine (up to 6 s): 820 s
# on a loaded two-core machine, so its bound is wider than the others'.
go test -p 1 -count=1 -timeout 25m "$@" "${rest[@]}"
leftovers
