#!/usr/bin/env bash
# Sends "Product Viewed" through the events API as the shop's site would, dated by the app's (virtual) time.
# Usage: scripts/demo/view-product.sh <customer id> <product id>
set -euo pipefail
customer="$1"; product="$2"
base="${NUDGE_URL:-http://127.0.0.1:7071}"
now="$(NUDGE_URL="$base" "$(dirname "${BASH_SOURCE[0]}")/now.sh")"
curl -sS -X POST "$base/api/events" \
  -H "Content-Type: application/json" \
  -H "X-Nudge-Source: ${NUDGE_EVENTS_SOURCE:-demo-site}" \
  -H "x-api-key: ${NUDGE_EVENTS_KEY:-local-events-api-key-0001}" \
  --data-binary "{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"$(cat /proc/sys/kernel/random/uuid)\",\"userId\":\"$customer\",\"timestamp\":\"$now\",\"properties\":{\"product_id\":\"$product\"}}" \
  -w "\nHTTP %{http_code}\n"
