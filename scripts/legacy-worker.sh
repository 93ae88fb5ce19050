#!/usr/bin/env bash
# legacy-worker.sh runs a stand-in for the platform's legacy Celery workers on
# this machine: the Celery app the tests use (shim/celerybridge/testdata/
# fixture_app.py), which registers the platform's task names on the platform's
# queues, so executions the shim routes to Celery run to their end. It runs in
# the foreground; Ctrl-C stops it. The real platform's workers take its place in
# production.
#
#   CELERY_BROKER_URL      broker (default amqp://guest:guest@127.0.0.1:5672//)
#   CELERY_RESULT_BACKEND  result backend (default rpc://); must be the service's
#   LEGACY_QUEUES          queues to consume (default: the platform's, see README)
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
export CELERY_BROKER_URL=${CELERY_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
export CELERY_RESULT_BACKEND=${CELERY_RESULT_BACKEND:-rpc://}
queues=${LEGACY_QUEUES:-celery,celery_api_deployments,file_processing,api_file_processing,file_processing_callback,api_file_processing_callback}
cd shim/celerybridge/testdata
exec /usr/bin/python3 -m celery -A fixture_app worker --loglevel=INFO --pool=threads --concurrency=4 \
	-n "legacy-fixture-$$@%h" -Q "$queues"
