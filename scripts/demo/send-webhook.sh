#!/usr/bin/env bash
# Signs a JSON file like Shopify does (base64 HMAC-SHA256 of the raw body) and posts it to the local app.
# Usage: scripts/demo/send-webhook.sh <topic> <file.json> [webhook-id]
set -euo pipefail
topic="$1"; file="$2"; id="${3:-$(cat /proc/sys/kernel/random/uuid)}"
secret="${Shopify__WebhookSecret:-local-shopify-webhook-secret}"
url="${NUDGE_URL:-http://127.0.0.1:7071}/api/webhooks/shopify"
signature="$(openssl dgst -sha256 -hmac "$secret" -binary < "$file" | base64)"
curl -sS -X POST "$url" \
  -H "Content-Type: application/json" \
  -H "X-Shopify-Topic: $topic" \
  -H "X-Shopify-Shop-Domain: demo-shop.myshopify.com" \
  -H "X-Shopify-Webhook-Id: $id" \
  -H "X-Shopify-Hmac-Sha256: $signature" \
  --data-binary "@$file" -w "\nHTTP %{http_code}\n"
