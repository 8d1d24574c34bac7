#!/usr/bin/env bash
# Runs every test: starts a private Azurite on its own ports, runs the solution's tests against it,
# checks the infrastructure code, and prints one closing line "N passed, N failed".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

blob_port="${TEST_AZURITE_BLOB_PORT:-10100}"
queue_port="${TEST_AZURITE_QUEUE_PORT:-10101}"
table_port="${TEST_AZURITE_TABLE_PORT:-10102}"
data="$(mktemp -d /tmp/nudge-test-azurite.XXXXXX)"
results="$(mktemp -d /tmp/nudge-test-results.XXXXXX)"

scripts/azurite.sh install
# The marketer page's tests run it in a real headless browser: Debian's chromium (CI is a fresh Debian machine, as root).
if [[ ! -x /usr/bin/chromium ]]; then
  echo "Installing Debian's chromium for the page tests ..."
  { apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; } > /tmp/nudge-chromium-install.log 2>&1 \
    || echo "chromium could not be installed (see /tmp/nudge-chromium-install.log): the page tests will fail"
fi
azurite_pid="$(scripts/azurite.sh start "$data" "$blob_port" "$queue_port" "$table_port")"
trap 'scripts/azurite.sh stop "$azurite_pid"; rm -rf "$data"' EXIT
export NUDGE_TEST_STORAGE="$(scripts/azurite.sh connection-string "$blob_port" "$queue_port" "$table_port")"

status=0
dotnet build Serverless.sln -c Release -nologo -v quiet -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }
for project in tests/*/*.Tests.csproj; do
  name="$(basename "$project" .csproj)"
  dotnet test "$project" -c Release --no-build -nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=$?
done

infra_status=0
if [[ -x scripts/check-infra.sh ]]; then
  scripts/check-infra.sh || infra_status=$?
fi

# One closing line over all test assemblies (and the infrastructure check, counted as one test).
python3 - "$results" "$infra_status" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    counters = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
    skipped += int(counters.get("notExecuted", 0))
if sys.argv[2] != "-1":
    if sys.argv[2] == "0": passed += 1
    else: failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
rm -rf "$results"
if [[ $status -ne 0 || $infra_status -ne 0 ]]; then
  exit 1
fi
