#!/usr/bin/env bash
# Builds the deployable function app folder that azd zips and deploys
# (azure.yaml: services.app.dist). Runs as the service's prepackage hook, and
# by hand for a manual check:
#
#   scripts/package-functionapp.sh            # -> publish/functionapp
#
# The app is published self-contained for linux-x64, so the Flex Consumption
# custom-handler host needs no .NET runtime of its own, and ReadyToRun, so an
# instance that scales out starts on precompiled code (median of 5: ready in
# 567 ms instead of 650, first webhook 49 ms instead of 63, 12% less CPU;
# tests/benchmarks/Ingest/cold-start.sh, docs/benchmarks.md). NUDGE_READY_TO_RUN=false
# publishes without it (that benchmark's baseline). The publish output
# already holds host.json and one folder per function with its function.json
# (see functions/Nudge.App/Nudge.App.csproj); this script checks they are there.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$repo_root/functions/Nudge.App/Nudge.App.csproj"
out="${NUDGE_PUBLISH_DIR:-$repo_root/publish/functionapp}"
configuration="${NUDGE_PUBLISH_CONFIGURATION:-Release}"

rm -rf "$out"
mkdir -p "$out"

DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
  dotnet publish "$project" \
    --configuration "$configuration" \
    --runtime linux-x64 \
    --self-contained true \
    --output "$out" \
    -p:UseAppHost=true \
    -p:PublishReadyToRun="${NUDGE_READY_TO_RUN:-true}" \
    -p:DebugType=none

missing=0
if [[ ! -f "$out/host.json" ]]; then
  echo "package-functionapp: host.json is missing from $out" >&2
  missing=1
fi
if [[ ! -f "$out/Nudge.App" ]]; then
  echo "package-functionapp: the Nudge.App executable (host.json defaultExecutablePath) is missing from $out" >&2
  missing=1
fi
shopt -s nullglob
function_files=("$out"/*/function.json)
if [[ ${#function_files[@]} -eq 0 ]]; then
  echo "package-functionapp: no <Function>/function.json folders in $out" >&2
  missing=1
fi
for source in "$repo_root"/functions/Nudge.App/Functions/*/function.json; do
  name="$(basename "$(dirname "$source")")"
  if [[ ! -f "$out/$name/function.json" ]]; then
    echo "package-functionapp: $name/function.json is not in the package" >&2
    missing=1
  fi
done
# Never ship local settings.
rm -f "$out/local.settings.json"
[[ $missing -eq 0 ]] || exit 1

# The Functions host starts this file directly, so it must stay executable
# inside the zip (azd keeps the mode bits when it zips on Linux or macOS).
chmod +x "$out/Nudge.App"
echo "package-functionapp: $out ready ($(du -sh "$out" | cut -f1), ${#function_files[@]} functions)"
