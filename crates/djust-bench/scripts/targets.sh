#!/usr/bin/env bash
# Runs every row of the targets table in docs/benchmarks.md with the release build and
# appends the JSON lines (with the load average before each run) to $OUT; then
# `python3 crates/djust-bench/scripts/targets.py $OUT` prints the table.
#
#   crates/djust-bench/scripts/targets.sh            OUT=/tmp/targets.jsonl
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
OUT="${OUT:-/tmp/targets.jsonl}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# BENCH=/path/to/djust-bench runs another build (e.g. the previous commit's, for before/after).
if [ -z "${BENCH:-}" ]; then
  (cd "$ROOT" && cargo build --release -p djust-bench)
  BENCH="$CARGO_TARGET_DIR/release/djust-bench"
fi
# ROWS="storm-1x200 join-1000" runs only those rows.
ROWS="${ROWS:-}"

run() {
  local row="$1"; shift
  if [ -n "$ROWS" ] && [[ " $ROWS " != *" $row "* ]]; then return; fi
  local load; load="$(cut -d' ' -f1 /proc/loadavg)"
  echo "== $row (load $load): djust-bench $*" >&2
  local line; line="$("$BENCH" "$@" --label "$row")"
  echo "{\"row\":\"$row\",\"load_before\":$load,\"result\":$line}" >>"$OUT"
}

run storm-1x10   cursor-storm --rooms 1 --users 10 --hz 20 --secs 20
run storm-1x50   cursor-storm --rooms 1 --users 50 --hz 20 --secs 20
run storm-1x200  cursor-storm --rooms 1 --users 200 --hz 20 --secs 20
run storm-50x4   cursor-storm --rooms 50 --users 4 --hz 20 --secs 20
run storm-1x1000-m50 cursor-storm --rooms 1 --users 1000 --movers 50 --hz 20 --secs 20
run fair-10x4-crowd500 cursor-storm --rooms 10 --users 4 --hz 20 --secs 20 --crowd 500 --crowd-movers 10
run join-1000    join-storm --users 1000
run idle-10000   idle --connections 10000 --room-size 10 --secs 5
run multi-2x25   multi-node --users 50 --hz 20 --secs 20 --presence-timeout 5
run typing-20x5  typing --users 20 --cps 5 --secs 20
echo "results appended to $OUT" >&2
