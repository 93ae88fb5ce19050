#!/usr/bin/env bash
# quickstart.sh sends the README's example document (examples/invoice.txt)
# through the running service twice, once to the legacy Celery task and once to
# the Hatchet workflow, and follows both executions to their end. It needs the
# service started as the README's Quickstart says (FEATURE_FLAGS_ALLOW_REQUEST_OVERRIDE=true,
# DOCUMENTS_ROOTS naming examples/, LLM_ADAPTERS with a "default" adapter) and a
# legacy worker (scripts/legacy-worker.sh). Exit 0 when both succeeded.
#
#   SHIM_URL        the service (default http://127.0.0.1:8090)
#   SHIM_API_TOKEN  its token (default: the one run.sh keeps)
set -euo pipefail
cd "$(dirname "$0")/.."

shim=${SHIM_URL:-http://127.0.0.1:8090}
token=${SHIM_API_TOKEN:-$(cat "${XDG_STATE_HOME:-$HOME/.local/state}/hatchet-worker/shim-token")}
doc=$PWD/examples/invoice.txt

field() { /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1" 2>/dev/null || true; }

run() { # run BACKEND USE_ABSTRACTION: start one execution and follow it
	local body resp id status
	body=$(printf '{"workflow": "document-processing-v2", "organization_id": "org_quickstart", "use_abstraction": %s,
  "input": {"document_path": "%s", "llm_adapter_id": "default",
            "outputs": [{"name": "total", "prompt": "What is the total due on this invoice?"}]}}' "$2" "$doc")
	resp=$(curl -sS -X POST "$shim/api/v2/workflows/execute" -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' -d "$body")
	echo "$1: $resp"
	id=$(field execution_id <<<"$resp")
	[ -n "$id" ] || return 1
	for _ in $(seq 1 240); do
		resp=$(curl -sS "$shim/api/v2/workflows/executions/$id" -H "Authorization: Bearer $token")
		status=$(field status <<<"$resp")
		case "$status" in
		succeeded) echo "$1: $resp"; return 0 ;;
		failed | cancelled | unknown) echo "$1: $resp"; return 1 ;;
		esac
		sleep 0.5
	done
	echo "$1: still $status after 2 minutes: $resp"
	return 1
}

rc=0
run celery false || rc=1
run hatchet true || rc=1
exit $rc
