#!/usr/bin/env bash
# Runs the benchmarks (not part of CI). Each reports against a baseline measured in the same run.
# Usage: scripts/bench.sh [interpreter|ingest|simulate|recommend|results|journeys|import|segments|audience|all]
#   results: MESSAGES (default 2000) status changes per side, BENCH_AZURITE_PORT (default 10410) and the next two.
#   journeys: JOURNEYS (default 1000), CLOCK_SPEED (default 8640), START_HOUR (KST, default 9), ORDERS (default
#   "bare-first journeys-first") override the run.
#   import: CUSTOMERS (default 20000), ORDERS_PER_CUSTOMER (default 2), IMPORT_PORTS (default "10400 10401 10402").
#   segments: STORED (default 100000), IN_MEMORY (default 1000000), IMPORT_PORTS as for import.
#   audience: MEMBERS (default 2000), SNAPSHOT (default 1000000), IMPORT_PORTS as for import.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
what="${1:-all}"
dotnet build tests/benchmarks/Nudge.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly
bench="dotnet tests/benchmarks/Nudge.Benchmarks/bin/Release/net10.0/Nudge.Benchmarks.dll"

if [[ "$what" == interpreter || "$what" == all ]]; then
  $bench interpreter --filter '*InterpreterBenchmarks*' --join
fi
if [[ "$what" == ingest || "$what" == all ]]; then
  $bench ingest --filter '*IngestRequestBenchmarks*' --join
fi
if [[ "$what" == simulate || "$what" == all ]]; then
  $bench simulate 1000000
fi
if [[ "$what" == recommend || "$what" == all ]]; then
  $bench recommend 20000 1000000
fi
if [[ "$what" == results || "$what" == all ]]; then
  # Journey results on a fresh Azurite: storage ops per status change with and without counters; a 1M-customer read.
  scripts/azurite.sh install
  data="$(mktemp -d /tmp/nudge-bench-azurite.XXXXXX)"
  port="${BENCH_AZURITE_PORT:-10410}"
  pid="$(scripts/azurite.sh start "$data" "$port" $((port + 1)) $((port + 2)))"
  trap 'scripts/azurite.sh stop "$pid"; rm -rf "$data"' EXIT
  $bench results "$(scripts/azurite.sh connection-string "$port" $((port + 1)) $((port + 2)))" "${MESSAGES:-2000}"
  scripts/azurite.sh stop "$pid"
  rm -rf "$data"
  trap - EXIT
fi
if [[ "$what" == journeys || "$what" == all ]]; then
  # Welcome journeys through the whole app against a bare orchestration of the same shape, one after the other in one
  # process, in both orders (the second side runs on an emulator holding the first one's data, with a warm JIT); a fresh
  # Azurite for each order.
  journeys="${JOURNEYS:-1000}" speed="${CLOCK_SPEED:-8640}" hour="${START_HOUR:-9}"
  scripts/azurite.sh install
  for order in ${ORDERS:-bare-first journeys-first}; do
    data="$(mktemp -d /tmp/nudge-bench-azurite.XXXXXX)"
    pid="$(scripts/azurite.sh start "$data" 10400 10401 10402)"
    trap 'scripts/azurite.sh stop "$pid"; rm -rf "$data"' EXIT
    AZURITE_PID="$pid" $bench journeys "$(scripts/azurite.sh connection-string 10400 10401 10402)" "$journeys" "$speed" "$hour" "$order"
    scripts/azurite.sh stop "$pid"
    rm -rf "$data"
    trap - EXIT
  done
fi
for side in import segments audience; do
if [[ "$what" == "$side" || "$what" == all ]]; then
  # The CSV import against a bare batched insert, segment sizes from the index against a full scan, and a journey
  # started for a segment against a scheduled entry of the same customers, each on a fresh Azurite.
  scripts/azurite.sh install
  read -r blob queue table <<< "${IMPORT_PORTS:-10400 10401 10402}"
  data="$(mktemp -d /tmp/nudge-bench-azurite.XXXXXX)"
  pid="$(scripts/azurite.sh start "$data" "$blob" "$queue" "$table")"
  trap 'scripts/azurite.sh stop "$pid"; rm -rf "$data"' EXIT
  connection="$(scripts/azurite.sh connection-string "$blob" "$queue" "$table")"
  if [[ "$side" == import ]]; then
    $bench import "$connection" "${CUSTOMERS:-20000}" "${ORDERS_PER_CUSTOMER:-2}"
  elif [[ "$side" == audience ]]; then
    $bench audience "$connection" "${MEMBERS:-2000}" "${SNAPSHOT:-1000000}"
  else
    $bench segments "$connection" "${STORED:-100000}" "${IN_MEMORY:-1000000}"
  fi
  scripts/azurite.sh stop "$pid"
  rm -rf "$data"
  trap - EXIT
fi
done
