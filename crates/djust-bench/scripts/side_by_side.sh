#!/usr/bin/env bash
# Runs the side-by-side rows of docs/benchmarks.md: the original Python djust (the anchor
# harness in ../shared/anchors/djust, copied to $ANCHOR_HOME by its setup.sh) and this
# implementation (djust-bench, release build), one after the other on the same machine.
# Every JSON line goes to $OUT with the machine's load average before the run.
#
#   crates/djust-bench/scripts/side_by_side.sh [SECONDS]      (default 20)
#   ONLY=ours|theirs, OUT=/tmp/side-by-side.jsonl
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
T="${1:-20}"
OUT="${OUT:-/tmp/side-by-side.jsonl}"
ANCHOR_HOME="${ANCHOR_HOME:-/tmp/djust-anchor}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH="$CARGO_TARGET_DIR/release/djust-bench"

if [ "${ONLY:-}" != ours ] && [ ! -x "$ANCHOR_HOME/run.sh" ]; then
  ANCHOR_HOME="$ANCHOR_HOME" "$ROOT/../shared/anchors/djust/setup.sh"
fi
if [ "${ONLY:-}" != theirs ]; then
  (cd "$ROOT" && cargo build --release -p djust-bench)
fi

# rows: label, rooms, users per room
ROWS=("10x20hz 1 10" "20x20hz 1 20" "50x20hz 1 50" "50rooms-x4 50 4")
for row in "${ROWS[@]}"; do
  read -r label rooms users <<<"$row"
  if [ "${ONLY:-}" != ours ]; then
    load="$(cut -d' ' -f1 /proc/loadavg)"
    echo "== theirs $label (load $load)" >&2
    line="$("$ANCHOR_HOME/run.sh" -R "$rooms" -U $((rooms * users)) -H 20 -T "$T" -L "$label" | tail -1)"
    echo "{\"side\":\"theirs\",\"row\":\"$label\",\"load_before\":$load,\"result\":$line}" >>"$OUT"
  fi
  if [ "${ONLY:-}" != theirs ]; then
    load="$(cut -d' ' -f1 /proc/loadavg)"
    echo "== ours $label (load $load)" >&2
    line="$("$BENCH" cursor-storm --rooms "$rooms" --users "$users" --hz 20 --secs "$T" --label "$label")"
    echo "{\"side\":\"ours\",\"row\":\"$label\",\"load_before\":$load,\"result\":$line}" >>"$OUT"
  fi
done
echo "results appended to $OUT" >&2
