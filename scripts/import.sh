#!/usr/bin/env bash
# Starts an import of a shop's existing customers or orders and shows its progress until it ends.
#
#   scripts/import.sh customers|orders PLATFORM SHOP [FILE.csv]
#
# With FILE.csv the file is uploaded (PLATFORM names whose customer ids it uses: shopify, woocommerce, cafe24, web);
# without it the shop's platform (shopify, woocommerce or cafe24) is read through its Admin API, which the app must
# have credentials for (Shops__N__AdminApiUrl and its token). The progress bar is drawn from GET /api/imports/{id}:
# the share done, rows applied and skipped, and the estimated time left.
#
# Exit status: 0 when the import completed (skipped rows are listed, not a failure), 1 when it failed or stalled (the
# reason is printed; a stalled import resumes from its checkpoint when this is run again), 2 when the app refused to
# start it (the problem is printed), 3 when the app could not be reached.
#
# Settings (environment): NUDGE_URL (default http://127.0.0.1:7071, the local run), Nudge__MarketerApiKey (default the
# local run's key), NUDGE_IMPORT_POLL_SECONDS (default 1). Needs only bash, curl and sed.
set -euo pipefail

usage() { echo "usage: $0 customers|orders PLATFORM SHOP [FILE.csv]" >&2; exit 2; }
[[ $# -ge 3 && $# -le 4 ]] || usage
kind="$1" platform="$2" shop="$3" file="${4:-}"
[[ "$kind" == customers || "$kind" == orders ]] || usage
[[ -z "$file" || -r "$file" ]] || { echo "cannot read $file" >&2; exit 2; }

base="${NUDGE_URL:-http://127.0.0.1:7071}"
key="${Nudge__MarketerApiKey:-local-marketer-api-key-0001}"
poll="${NUDGE_IMPORT_POLL_SECONDS:-1}"
query="kind=$kind&platform=$(printf %s "$platform" | sed 's/[^A-Za-z0-9]//g')&shop=$(printf %s "$shop" | sed 's/[^A-Za-z0-9._-]//g')"

# A JSON field of the app's answers (flat values only: strings, numbers, null), without jq.
field() {
  printf %s "$2" | sed -nE "s/.*\"$1\":(\"([^\"]*)\"|([-0-9.eE+]+|null|true|false)).*/\2\3/p" | head -n 1 | sed "s/\\\\u0027/'/g"
}

body_args=()
if [[ -n "$file" ]]; then
  body_args=(-H "Content-Type: text/csv" --data-binary "@$file")
fi

answer="$(curl -sS -w '\n%{http_code}' -X POST -H "x-api-key: $key" "${body_args[@]}" "$base/api/imports?$query")" \
  || { echo "could not reach $base" >&2; exit 3; }
status="${answer##*$'\n'}"
answer="${answer%$'\n'*}"
if [[ "$status" != 202 ]]; then
  echo "the import was not started (HTTP $status): $(field detail "$answer")" >&2
  exit 2
fi

id="$(field id "$answer")"
echo "import $id ($kind from ${file:-$platform}, shop $shop)"

bar() { # percent → a 30-character bar
  local filled=$(( ${1%.*} * 30 / 100 ))
  printf '%*s' "$filled" '' | tr ' ' '#'
  printf '%*s' $(( 30 - filled )) '' | tr ' ' '.'
}

misses=0
last=""
while true; do
  if ! progress="$(curl -sS -f -H "x-api-key: $key" "$base/api/imports/$id")"; then
    misses=$((misses + 1))
    (( misses < 10 )) || { echo; echo "lost the app at $base" >&2; exit 3; }
    sleep "$poll"
    continue
  fi
  misses=0
  state="$(field status "$progress")"
  percent="$(field percent "$progress")"
  eta="$(field etaSeconds "$progress")"
  line="$(printf '[%s] %5s%%  applied %s  skipped %s' "$(bar "${percent:-0}")" "${percent:-0}" "$(field rowsApplied "$progress")" "$(field rowsSkipped "$progress")")"
  [[ "$(field source "$progress")" == platform ]] && line+="  read $(field recordsRead "$progress")/$(field recordsExpected "$progress" | sed 's/^null$/?/')"
  [[ -n "$eta" && "$eta" != null && "$state" != completed ]] && line+="  ETA ${eta%.*}s"
  line+="  $state"
  if [[ -t 1 ]]; then
    printf '\r%s\033[K' "$line"
  elif [[ "$line" != "$last" ]]; then
    echo "$line"
  fi
  last="$line"

  case "$state" in
    completed)
      [[ -t 1 ]] && echo
      skipped="$(field rowsSkipped "$progress")"
      if [[ "${skipped:-0}" != 0 ]]; then
        echo "skipped rows (first ones, by line or record number):"
        printf '%s\n' "$progress" | sed -nE 's/.*"errors":\[([^]]*)\].*/\1/p' | sed -E 's/\},\{/}\n{/g' \
          | sed -nE 's/.*"line":([0-9]+),"problem":"([^"]*)".*/  \1: \2/p'
      fi
      exit 0 ;;
    failed|stalled)
      [[ -t 1 ]] && echo
      echo "the import $state: $(field problem "$progress")" >&2
      exit 1 ;;
  esac
  sleep "$poll"
done
