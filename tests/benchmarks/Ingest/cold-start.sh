#!/usr/bin/env bash
# Cold start of the deployable package: ReadyToRun (what scripts/package-functionapp.sh ships) against the same app
# JIT-compiled (the baseline), taking turns against one private Azurite on 127.0.0.1:10330-10332.
# Usage: tests/benchmarks/Ingest/cold-start.sh [trials=5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
trials="${1:-5}"
work="$(mktemp -d /tmp/nudge-cold.XXXXXX)"
az_pid=""
cleanup() {
  [[ -n "$az_pid" ]] && scripts/azurite.sh stop "$az_pid" || true
  rm -rf "$work"
}
trap cleanup EXIT

NUDGE_PUBLISH_DIR="$work/jit" NUDGE_READY_TO_RUN=false scripts/package-functionapp.sh >/dev/null
NUDGE_PUBLISH_DIR="$work/readytorun" scripts/package-functionapp.sh >/dev/null
dotnet build tests/benchmarks/Ingest -c Release -nologo -v quiet -clp:ErrorsOnly

scripts/azurite.sh install
az_pid="$(scripts/azurite.sh start "$work/azurite" 10330 10331 10332)"
tests/benchmarks/Ingest/bin/Release/net10.0/Nudge.Bench.Ingest cold --packages "$work/jit,$work/readytorun" \
  --storage "$(scripts/azurite.sh connection-string 10330 10331 10332)" --trials "$trials"
