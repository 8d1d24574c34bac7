#!/usr/bin/env bash
# Ingest load benchmark: bare Kestrel vs the real ingest path (and vs a durable floor: bare + group-committed queue
# writes, nothing else), p99 at half the max rate, storage operations per event (the asynchronous batch processing
# included), duplicates processed; first, what one storage request costs the emulator. Everything on 127.0.0.1; bounded in count
# and time (about 4 minutes, most of it waiting for the intake batches to be processed).
# Usage: tests/benchmarks/Ingest/run.sh [customers=100000] [seconds=60]
#        AZURITE_IN_MEMORY=1 tests/benchmarks/Ingest/run.sh ...   (Azurite without disk persistence, to tell its stalls from ours)
#        WARM_SECONDS=20 (default) caps the app's warm-up (a quarter of the deliveries at most)
#        INTAKE_ONLY=1 tests/benchmarks/Ingest/run.sh ...         (no batch processing at all: what acknowledging alone costs;
#                                                                  skips the duplicate count and the operations count)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
customers="${1:-100000}"
seconds="${2:-60}"
secret="bench-shopify-webhook-secret"
work="$(mktemp -d /tmp/nudge-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done # Azurite may linger on SIGTERM
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
run="b$(date +%s)" # fresh table/queue names each run

dotnet build functions/Nudge.App -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build tests/benchmarks/Ingest -c Release -nologo -v quiet -clp:ErrorsOnly
app_bin="functions/Nudge.App/bin/Release/net10.0/Nudge.App"
bench_bin="tests/benchmarks/Ingest/bin/Release/net10.0/Nudge.Bench.Ingest"

if (exec 3<>/dev/tcp/127.0.0.1/10312) 2>/dev/null; then echo "port 10312 is taken: is another benchmark running?"; exit 1; fi
if [[ "${AZURITE_IN_MEMORY:-0}" == 1 ]]; then
  scripts/azurite.sh install
  .tools/azurite/node_modules/.bin/azurite --silent --skipApiVersionCheck --disableTelemetry --loose --inMemoryPersistence \
    --blobHost 127.0.0.1 --blobPort 10310 --queueHost 127.0.0.1 --queuePort 10311 --tableHost 127.0.0.1 --tablePort 10312 >"$work/azurite.log" 2>&1 &
  az_pid=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/10312) 2>/dev/null && break; sleep 0.1; done
else
  az_pid="$(scripts/azurite.sh start "$work/azurite" 10310 10311 10312)"
fi
pids+=("$az_pid")
storage_pid="$(ss -ltnpH "sport = :10312" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)" # the node process itself, for its CPU time
direct="$(scripts/azurite.sh connection-string 10310 10311 10312)"
proxied="$(scripts/azurite.sh connection-string 10313 10314 10315)"

triggers=IngestBatches drain=10
if [[ "${INTAKE_ONLY:-0}" == 1 ]]; then triggers=none drain=0; fi
start_app() { # url connection prefix
  AzureWebJobsStorage="$2" Nudge__Storage__Prefix="$3" Shopify__WebhookSecret="$secret" Nudge__MarketerApiKey=bench-marketer-api-key-01 \
    Nudge__LocalTriggers=true Nudge__LocalTriggerFunctions="$triggers" Logging__LogLevel__Default=Warning "$app_bin" --urls "$1" >"$work/app-$3.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 200); do curl -sf "$1/api/health" >/dev/null && return; sleep 0.1; done
  echo "app did not start"; cat "$work/app-$3.log"; exit 1
}

"$bench_bin" bare --url http://127.0.0.1:7175 >"$work/bare.log" 2>&1 & pids+=("$!")
bare_pid="${pids[-1]}"
DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 "$bench_bin" floor --url http://127.0.0.1:7176 --storage "$direct" --prefix "$run" >"$work/floor.log" 2>&1 & pids+=("$!")
floor_pid="${pids[-1]}"
for port in 7175 7176; do
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done

echo "== what one storage request costs the emulator =="
"$bench_bin" emulator --storage "$direct" --storage-pid "${storage_pid:-0}" --prefix "$run"

echo "== throughput, latency, duplicates (direct to Azurite; of the triggers only IngestBatches runs, so the journeys do not compete) =="
start_app http://127.0.0.1:7173 "$direct" "$run"
"$bench_bin" load --app http://127.0.0.1:7173 --secret "$secret" --customers "$customers" --dup-percent 5 \
  --seconds "$seconds" --warm-seconds "${WARM_SECONDS:-20}" --half-seconds 20 --concurrency 64 --storage "$direct" --prefix "$run" --app-pid "${pids[-1]}" --storage-pid "${storage_pid:-0}" \
  --bare http://127.0.0.1:7175 --bare-pid "$bare_pid" --floor http://127.0.0.1:7176 --floor-pid "$floor_pid" --drain-minutes "$drain"
kill "${pids[-1]}"

if [[ "${INTAKE_ONLY:-0}" == 1 ]]; then exit 0; fi

echo "== storage operations per event (through a counting proxy) =="
"$bench_bin" proxy --listen 10313,10314,10315 --target 10310,10311,10312 >"$work/proxy.log" 2>&1 & pids+=("$!")
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:10315/__count >/dev/null && break; sleep 0.1; done
start_app http://127.0.0.1:7174 "$proxied" "${run}ops"
"$bench_bin" ops --app http://127.0.0.1:7174 --secret "$secret" --customers 2000 --dup-percent 5 --concurrency 16 --storage "$direct" --prefix "${run}ops"
