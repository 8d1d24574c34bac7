#!/usr/bin/env bash
# Saves a preset journey (GET /api/journeys/presets) as a draft and publishes it.
# Usage: scripts/demo/publish-preset.sh <preset id>
set -euo pipefail
id="$1"
base="${NUDGE_URL:-http://127.0.0.1:7071}"
key="${Nudge__MarketerApiKey:-local-marketer-api-key-0001}"
curl -sS -H "x-api-key: $key" "$base/api/journeys/presets" \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const all=JSON.parse(s);const list=Array.isArray(all)?all:(all.presets||all.journeys);const p=list.find(j=>j.id===process.argv[1]);if(!p){console.error("no preset "+process.argv[1]);process.exit(1)}process.stdout.write(JSON.stringify(p))})' "$id" \
  | curl -sS -o /dev/null -w "draft: HTTP %{http_code}\n" -H "x-api-key: $key" -H "Content-Type: application/json" -X POST "$base/api/journeys" --data-binary @-
curl -sS -o /dev/null -w "publish: HTTP %{http_code}\n" -H "x-api-key: $key" -X POST "$base/api/journeys/$id/publish"
