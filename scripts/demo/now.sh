#!/usr/bin/env bash
# Prints the app's (virtual) time, as a webhook's created_at: with NUDGE_CLOCK_SPEED the app's clock runs ahead of yours.
set -euo pipefail
curl -sS "${NUDGE_URL:-http://127.0.0.1:7071}/api/health" | sed -E 's/.*"now":"([^"]*)".*/\1/'
