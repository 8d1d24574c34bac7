#!/usr/bin/env bash
# Posts what Azure Communication Services would report about a customer's message, through Event Grid, to the local
# app: that it was delivered, then a click on its link. The local sink sends nothing, so nothing else reports it.
# Usage: scripts/demo/acs-report.sh <customerId> <template>
set -euo pipefail
customer="$1"; template="$2"
base="${NUDGE_URL:-http://127.0.0.1:7071}"
key="${Nudge__MarketerApiKey:-local-marketer-api-key-0001}"
callback="${Nudge__Channels__CallbackKey:-local-acs-callback-key-0001}"
delivery="$(curl -sS -H "x-api-key: $key" "$base/api/deliveries?platform=shopify&customerId=$customer" \
  | sed -nE "s/.*\"template\":\"$template\"[^}]*\"deliveryId\":\"([0-9a-f]{32})\".*/\1/p")"
[[ -n "$delivery" ]] || { echo "no '$template' delivery for customer $customer yet" >&2; exit 1; }
message="$(sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/' <<< "$delivery")"
post() {
  curl -sS -X POST "$base/api/callbacks/acs?key=$callback" -H "Content-Type: application/json" -w "$1: HTTP %{http_code}\n" -o /dev/null --data-binary @- <<JSON
[{"id":"$(cat /proc/sys/kernel/random/uuid)","eventType":"Microsoft.Communication.$2","subject":"demo","dataVersion":"1.0",
  "eventTime":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","data":{"messageId":"$message",$3}}]
JSON
}
post delivered EmailDeliveryReportReceived '"status":"Delivered"'
post clicked EmailEngagementTrackingReportReceived '"engagementType":"click","engagementContext":"https://demo-shop.example/coupon"'
