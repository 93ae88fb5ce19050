#!/bin/sh
# hatchet-token.sh: one-shot bootstrap for compose.yaml. Runs in the
# hatchet-lite image (which ships /hatchet-admin) against the config volume that
# hatchet-lite wrote on its first start, and writes an API token for the
# default tenant to TOKEN_FILE, where the hatchet-worker service reads it.
#
# An existing token is kept until it is TOKEN_ROTATE_DAYS old, so restarts do
# not mint a new token each time; the token itself lives TOKEN_TTL, longer than
# the rotation age, so a stack that is restarted now and then never sees it
# expire. A stack left running past TOKEN_TTL needs `docker compose up -d`
# (this service then rotates the token and hatchet-worker restarts with it).
set -eu

token_file=${TOKEN_FILE:-/tokens/hatchet-token}
tenant_id=${HATCHET_TENANT_ID:-707d0855-80ab-4e1f-a156-f1c4546cbf52} # Hatchet's seeded default tenant
ttl=${TOKEN_TTL:-8760h}
rotate_days=${TOKEN_ROTATE_DAYS:-180}
owner=${TOKEN_OWNER:-10001:10001} # the hatchet-worker image's user (Dockerfile)

if [ -s "$token_file" ] && [ -z "$(find "$token_file" -mtime +"$rotate_days")" ]; then
	echo "hatchet-token: keeping $token_file (younger than $rotate_days days)"
	exit 0
fi

umask 077
tmp="$token_file.tmp"
# hatchet-admin logs to stderr; the token is the last line on stdout.
/hatchet-admin token create --config /config --tenant-id "$tenant_id" \
	--name hatchet-worker --expiresIn "$ttl" | tail -n 1 >"$tmp"

# A JWT is three dot-separated base64url parts; refuse to publish anything else.
if ! grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$tmp"; then
	echo "hatchet-token: hatchet-admin did not print a token" >&2
	rm -f "$tmp"
	exit 1
fi

chown "$owner" "$tmp"
chmod 0400 "$tmp"
mv -f "$tmp" "$token_file"
echo "hatchet-token: wrote $token_file (valid $ttl)"
