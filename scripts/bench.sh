#!/usr/bin/env bash
# Runs the benchmarks (not part of CI). Each reports against a baseline measured in the same run.
# Usage: scripts/bench.sh [interpreter|ingest|simulate|shell|all]
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
if [[ "$what" == shell || "$what" == all ]]; then
  data="$(mktemp -d /tmp/nudge-bench-azurite.XXXXXX)"
  scripts/azurite.sh install
  pid="$(scripts/azurite.sh start "$data" 10400 10401 10402)"
  trap 'scripts/azurite.sh stop "$pid"; rm -rf "$data"' EXIT
  # 200 welcome journeys at the README's clock speed, starting at 09:00 and at 20:00 KST (day-2 SMS in quiet hours).
  $bench shell "$(scripts/azurite.sh connection-string 10400 10401 10402)" 200 8640 9
  $bench shell "$(scripts/azurite.sh connection-string 10400 10401 10402)" 200 8640 20
fi
