#!/usr/bin/env bash
# Installs Azurite from npm into the repo's ignored .tools folder (once) and starts it.
# Usage: scripts/azurite.sh install
#        scripts/azurite.sh start <data-dir> <blob-port> <queue-port> <table-port>   (prints the pid)
#        scripts/azurite.sh start-split <data-dir> <blob-port> <queue-port> <table-port>   (one process per service; prints the pids)
#        scripts/azurite.sh stop <pid>
#        AZURITE_IN_MEMORY=1 scripts/azurite.sh start|start-split ...   (no disk persistence: benchmarks use it to tell
#        the emulator's periodic rewrite of its whole store apart from the code under test)
#        AZURITE_IN_MEMORY=table scripts/azurite.sh start-split ...     (only the listed services in memory, e.g. table or
#        blob,table: Azurite's in-memory queue service has stalled under 100,000-message runs)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="3.37.0"
prefix="$root/.tools/azurite"
bin="$prefix/node_modules/.bin/azurite"
in_memory="${AZURITE_IN_MEMORY:-0}"

# Where a service keeps its data: a folder, or nothing with AZURITE_IN_MEMORY=1 or a list naming the service
# (Azurite refuses both at once). $2: the service of a split start; a single process is all services at once.
storage_args() {
  if [[ "$in_memory" == 1 || ( -n "${2:-}" && ",$in_memory," == *",$2,"* ) ]]; then echo "--inMemoryPersistence"; else echo "--location $1"; fi
}

install() {
  if [[ -x "$bin" ]] && grep -q "\"version\": \"$version\"" "$prefix/node_modules/azurite/package.json" 2>/dev/null; then
    return
  fi
  echo "Installing Azurite $version into .tools/azurite ..." >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "azurite@$version" >&2
}

start() {
  local data="$1" blob="$2" queue="$3" table="$4"
  install
  mkdir -p "$data"
  # shellcheck disable=SC2046 # the data folder path has no spaces (mktemp)
  "$bin" --silent --skipApiVersionCheck --disableTelemetry --loose $(storage_args "$data") \
    --blobHost 127.0.0.1 --blobPort "$blob" \
    --queueHost 127.0.0.1 --queuePort "$queue" \
    --tableHost 127.0.0.1 --tablePort "$table" >"$data/azurite.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$table") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$queue") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$blob") 2>/dev/null; then
      echo "$pid"
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "Azurite exited; see $data/azurite.log" >&2
      cat "$data/azurite.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  echo "Azurite did not start listening within 10 s; see $data/azurite.log" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

# Each service in its own Azurite process (each is single-threaded node), as Azure scales them independently;
# benchmarks that load tables and queues together use it so the emulator's one thread is not the bottleneck.
start_split() {
  local data="$1" blob="$2" queue="$3" table="$4"
  install
  local pids=()
  for service in blob queue table; do
    mkdir -p "$data/$service"
    local port="$blob"; [[ $service == queue ]] && port="$queue"; [[ $service == table ]] && port="$table"
    # shellcheck disable=SC2046
    "$prefix/node_modules/.bin/azurite-$service" --silent --skipApiVersionCheck --disableTelemetry --loose $(storage_args "$data/$service" "$service") \
      --"${service}Host" 127.0.0.1 --"${service}Port" "$port" >"$data/$service/azurite.log" 2>&1 &
    pids+=("$!")
  done
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$table") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$queue") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$blob") 2>/dev/null; then
      echo "${pids[*]}"
      return
    fi
    sleep 0.1
  done
  echo "Azurite did not start listening within 10 s; see $data/*/azurite.log" >&2
  kill "${pids[@]}" 2>/dev/null || true
  exit 1
}

# Stops Azurite: TERM, then KILL if it has not exited within 3 s (it sometimes ignores TERM mid-flush).
stop() {
  local pid="$1"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

# Connection string for Azurite's well-known development account on the given ports.
connection_string() {
  local blob="$1" queue="$2" table="$3"
  local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  start-split) start_split "$@" ;;
  stop) stop "$@" ;;
  connection-string) connection_string "$@" ;;
  *) echo "usage: $0 install | start <dir> <blob> <queue> <table> | start-split <dir> <blob> <queue> <table> | stop <pid> | connection-string <blob> <queue> <table>" >&2; exit 2 ;;
esac
