#!/usr/bin/env bash
# azd postprovision hook: writes a local settings file from the Bicep outputs
# that azd has just stored in .azure/<env>/.env, so a developer can point a
# local run (or a script) at the provisioned resources.
#
#   Default path: .azure/<env>/local.settings.json (git-ignored with .azure/).
#   Override:     NUDGE_LOCAL_SETTINGS_PATH=functions/Nudge.App/local.settings.json
#                 (any local.settings.json is git-ignored too).
#
# The file (Functions local.settings.json format) holds endpoints only: no
# keys, no secrets; names of the deployed resources are in `azd env get-values`. Storage and
# Communication Services are reached with the signed-in developer's Microsoft
# Entra identity (no __credential setting means DefaultAzureCredential), which
# needs the same data roles the app's identity has (see docs/deployment.md).
# Secrets stay in Key Vault. Run by hand with: azd hooks run postprovision
#
# The local task hub is the deployed one's name plus "Local": a local run against
# the same storage account must not take the deployed app's journey work items
# (Durable Functions task hubs sharing an account are told apart by name only).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Outside azd the outputs are not in the environment; ask azd for them.
if [[ -z "${AZURE_ENV_NAME:-}" || -z "${AZURE_STORAGE_BLOB_ENDPOINT:-}" ]]; then
  if command -v azd >/dev/null 2>&1; then
    eval "$(cd "$repo_root" && azd env get-values)"
  fi
fi

required=(
  AZURE_ENV_NAME
  AZURE_STORAGE_BLOB_ENDPOINT
  AZURE_STORAGE_QUEUE_ENDPOINT
  AZURE_STORAGE_TABLE_ENDPOINT
  APPLICATIONINSIGHTS_CONNECTION_STRING
  NUDGE_EMAIL_ACS_ENDPOINT
  NUDGE_EMAIL_SENDER_ADDRESS
  NUDGE_DEFAULT_TIME_ZONE
  NUDGE_TASK_HUB
)
missing=()
for name in "${required[@]}"; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "postprovision: missing azd outputs: ${missing[*]} (run azd provision first)" >&2
  exit 1
fi

target="${NUDGE_LOCAL_SETTINGS_PATH:-$repo_root/.azure/$AZURE_ENV_NAME/local.settings.json}"
case "$target" in
  /*) ;;
  *) target="$repo_root/$target" ;;
esac
case "$target" in
  "$repo_root/.azure/"* | */local.settings.json) ;;
  *)
    echo "postprovision: refusing to write $target: use a path under .azure/ or named local.settings.json (both git-ignored)" >&2
    exit 1
    ;;
esac

# 40 + 5 characters stays within the 45 a task hub name may have.
local_task_hub="${NUDGE_TASK_HUB:0:40}Local"

json_string() {
  local value="$1"
  value="${value//\\/\\\\}"
  value="${value//\"/\\\"}"
  printf '"%s"' "$value"
}

mkdir -p "$(dirname "$target")"
umask 077
tmp="$target.tmp.$$"
{
  echo '{'
  echo '  "IsEncrypted": false,'
  echo '  "Values": {'
  echo "    \"FUNCTIONS_WORKER_RUNTIME\": \"dotnet-isolated\","
  echo "    \"AzureWebJobsStorage__blobServiceUri\": $(json_string "$AZURE_STORAGE_BLOB_ENDPOINT"),"
  echo "    \"AzureWebJobsStorage__queueServiceUri\": $(json_string "$AZURE_STORAGE_QUEUE_ENDPOINT"),"
  echo "    \"AzureWebJobsStorage__tableServiceUri\": $(json_string "$AZURE_STORAGE_TABLE_ENDPOINT"),"
  echo "    \"APPLICATIONINSIGHTS_CONNECTION_STRING\": $(json_string "$APPLICATIONINSIGHTS_CONNECTION_STRING"),"
  echo "    \"NUDGE_TASK_HUB\": $(json_string "$local_task_hub"),"
  echo "    \"Nudge__DefaultTimeZone\": $(json_string "$NUDGE_DEFAULT_TIME_ZONE"),"
  echo "    \"Nudge__Email__AcsEndpoint\": $(json_string "$NUDGE_EMAIL_ACS_ENDPOINT"),"
  echo "    \"Nudge__Email__SenderAddress\": $(json_string "$NUDGE_EMAIL_SENDER_ADDRESS")"
  echo '  }'
  echo '}'
} >"$tmp"
mv -f "$tmp" "$target"
echo "postprovision: wrote ${target#"$repo_root"/} (endpoints only; secrets stay in Key Vault ${AZURE_KEY_VAULT_NAME:-})"
