#!/usr/bin/env bash
# make demo-down: stops the demo fleet and removes ./.demo.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=$PWD/.demo
[ -d "$demo" ] || { echo "no demo is running"; exit 0; }
for pidfile in "$demo"/agent*.pid "$demo"/controlplane.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stopped $(basename "$pidfile" .pid)"
  fi
done
rm -rf "$demo"
echo "removed $demo"
