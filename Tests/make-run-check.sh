#!/usr/bin/env bash
# Checks that `make run` starts the service on the embedded default with the outbox: it builds,
# serves, picks up a document added by another process and writes it to outbox/ID.eml.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
log="$work/serve.log"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "make-run-check: FAILED: $1" >&2
    echo "--- make run output ---" >&2
    cat "$log" >&2 || true
    exit 1
}

# The service runs in a folder of its own so the check leaves nothing in the repository.
export DATABASE_URL="sqlite:$work/trigger-email.db"
export OUTBOX_DIR="$work/outbox"
# Port 0 takes a free port, so a service already on 8025 cannot fail the check.
export LISTEN="127.0.0.1:0"
unset SMTP_CONNECTION_URI

setsid make run >"$log" 2>&1 &
server_pid=$!

for _ in $(seq 1 600); do
    grep -q "processor started" "$log" && break
    kill -0 "$server_pid" 2>/dev/null || fail "make run exited before the processor started"
    sleep 0.5
done
grep -q "processor started" "$log" || fail "the processor did not start within 300 seconds"
grep -q "no SMTP server configured" "$log" || fail "serve did not say that no SMTP server is configured"

id=$(echo '{"to": "a@example.org", "from": "shop@example.com", "message": {"subject": "make run", "text": "Hello"}}' \
    | .build/release/trigger-email add)

for _ in $(seq 1 100); do
    [ -f "$OUTBOX_DIR/$id.eml" ] && break
    sleep 0.1
done
[ -f "$OUTBOX_DIR/$id.eml" ] || fail "outbox/$id.eml was not written within 10 seconds"
.build/release/trigger-email get "$id" | grep -q '"state": "SUCCESS"' || fail "document $id did not end in SUCCESS"

address=$(sed -n 's/.*HTTP API listening http.address=\([0-9.:]*\).*/\1/p' "$log" | head -n 1)
[ -n "$address" ] || fail "serve did not log the address of its HTTP API"
python3 - "$address" <<'PYTHON' || fail "GET http://$address/healthz did not answer 200 with ok true"
import json, sys, urllib.request
with urllib.request.urlopen(f"http://{sys.argv[1]}/healthz", timeout=10) as response:
    sys.exit(0 if response.status == 200 and json.load(response)["ok"] is True else 1)
PYTHON

# setsid made make the leader of its own process group, so this stops make and the server.
kill -TERM -- "-$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""
echo "make-run-check: make run served the outbox as expected"
