#!/usr/bin/env bash
# Runs the whole pipeline on this machine: Azurite on 127.0.0.1 and the app on http://127.0.0.1:7071 (NUDGE_PORT;
# Azurite's ports: AZURITE_BLOB_PORT, AZURITE_QUEUE_PORT, AZURITE_TABLE_PORT),
# with the local trigger driver firing the queue and timer functions. Ctrl-C stops both.
#
# Settings come from the environment; unset ones get local development defaults (printed below).
# Virtual time: NUDGE_CLOCK_SPEED=8640 makes a day pass in 10 seconds. Virtual time keeps running while the
# app is stopped; run with --fresh to wipe local storage (and virtual time) and start over.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

data="$root/.azurite/local"
if [[ "${1:-}" == "--fresh" ]]; then
  rm -rf "$data" "$root/.azurite/outbox"
fi

blob_port="${AZURITE_BLOB_PORT:-10000}"
queue_port="${AZURITE_QUEUE_PORT:-10001}"
table_port="${AZURITE_TABLE_PORT:-10002}"
app_port="${NUDGE_PORT:-7071}"

scripts/azurite.sh install
echo "Building Nudge.App ..."
dotnet build functions/Nudge.App -c Release -nologo -v quiet -clp:ErrorsOnly

azurite_pid="$(scripts/azurite.sh start "$data" "$blob_port" "$queue_port" "$table_port")"
app_pid=""
cleanup() {
  if [[ -n "$app_pid" ]]; then
    kill "$app_pid" 2>/dev/null || true
    # The app's shutdown still talks to storage (task-hub leases): stopping Azurite under it hangs it.
    for _ in $(seq 1 30); do kill -0 "$app_pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$app_pid" 2>/dev/null || true
  fi
  scripts/azurite.sh stop "$azurite_pid"
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

export AzureWebJobsStorage="${AzureWebJobsStorage:-$(scripts/azurite.sh connection-string "$blob_port" "$queue_port" "$table_port")}"
export Shopify__WebhookSecret="${Shopify__WebhookSecret:-local-shopify-webhook-secret}"
export Nudge__MarketerApiKey="${Nudge__MarketerApiKey:-local-marketer-api-key-0001}"
export Nudge__DefaultTimeZone="${Nudge__DefaultTimeZone:-Asia/Seoul}"
export Nudge__Channels__CallbackKey="${Nudge__Channels__CallbackKey:-local-acs-callback-key-0001}"
export NUDGE_CLOCK_SPEED="${NUDGE_CLOCK_SPEED:-1}"
export Nudge__Channels__PublicBaseUrl="${Nudge__Channels__PublicBaseUrl:-http://127.0.0.1:$app_port}"
# The local sink also writes each message as rendered into this folder (never set in Azure).
export Nudge__LocalOutbox="${Nudge__LocalOutbox:-$root/.azurite/outbox}"
# A demo events-API source for the site's product views (Shopify sends none), joined to the demo Shopify shop.
if [[ -z "${Shops__0__Platform:-}" ]]; then
  export Shops__0__Platform=events Shops__0__Domain=demo-site Shops__0__ApiKey=local-events-api-key-0001 \
    Shops__0__CustomerPlatform=shopify Shops__0__CustomerShop=demo-shop.myshopify.com
fi
export DOTNET_ENVIRONMENT="${DOTNET_ENVIRONMENT:-Development}"

cat <<INFO
Azurite (pid $azurite_pid): blob $blob_port, queue $queue_port, table $table_port; data in ${data#$root/}
Development settings (never use these outside this machine):
  Shopify__WebhookSecret = $Shopify__WebhookSecret
  Nudge__MarketerApiKey  = $Nudge__MarketerApiKey
  Nudge__DefaultTimeZone = $Nudge__DefaultTimeZone
  Nudge__Channels__CallbackKey = $Nudge__Channels__CallbackKey
  NUDGE_CLOCK_SPEED      = $NUDGE_CLOCK_SPEED
  Nudge__LocalOutbox     = ${Nudge__LocalOutbox#$root/}  (each message as rendered)
  Events API source      = ${Shops__0__Domain:-} (x-api-key ${Shops__0__ApiKey:-})
Nudge on http://127.0.0.1:$app_port  (health: http://127.0.0.1:$app_port/api/health). Ctrl-C stops both.
INFO

functions/Nudge.App/bin/Release/net10.0/Nudge.App --urls "http://127.0.0.1:$app_port" &
app_pid=$!
wait "$app_pid"
