#!/usr/bin/env bash
# Builds the function app folder the way `azd deploy` does for this .NET service
# (`dotnet publish <project> -c Release --output <dir>`), so the package can be
# looked at, or measured (tests/benchmarks/Ingest/cold-start.sh), without azd:
#
#   scripts/package-functionapp.sh            # -> publish/functionapp
#
# azd itself does not run this script. NUDGE_READY_TO_RUN=true|false overrides the
# project's PublishReadyToRun (the cold-start benchmark's baseline is false); unset,
# the package is exactly azd's. Then checks the isolated-worker layout the Functions
# host needs: host.json, functions.metadata (the functions the Worker SDK found),
# worker.config.json, the .azurefunctions extensions folder and Nudge.App.dll.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$repo_root/functions/Nudge.App/Nudge.App.csproj"
out="${NUDGE_PUBLISH_DIR:-$repo_root/publish/functionapp}"

publish_args=(--configuration Release --output "$out")
if [[ -n "${NUDGE_READY_TO_RUN:-}" ]]; then
  publish_args+=("-p:PublishReadyToRun=$NUDGE_READY_TO_RUN")
fi

rm -rf "$out"
mkdir -p "$out"
DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet publish "$project" "${publish_args[@]}"

missing=0
require() {
  if [[ ! -e "$out/$1" ]]; then
    echo "package-functionapp: $1 is missing from $out ($2)" >&2
    missing=1
  fi
}
require host.json "the project must copy it to the publish output"
require functions.metadata "written by Microsoft.Azure.Functions.Worker.Sdk from the [Function] methods"
require worker.config.json "written by the Worker SDK; tells the host how to start the worker"
require .azurefunctions "the host-side binding extensions the Worker SDK builds"
require Nudge.App.dll "the worker assembly functions.metadata names"
if [[ -f "$out/host.json" ]] && grep -q '"customHandler"' "$out/host.json"; then
  echo "package-functionapp: host.json still declares a customHandler; the isolated worker takes none" >&2
  missing=1
fi
# azd leaves local.settings.json out of the zip; so does this folder.
rm -f "$out/local.settings.json"
[[ $missing -eq 0 ]] || exit 1

functions="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$out/functions.metadata")"
echo "package-functionapp: $out ready ($(du -sh "$out" | cut -f1), $functions functions)"
