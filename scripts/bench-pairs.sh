#!/usr/bin/env bash
# Compares two helpdesk-bench binaries on `ai-turn` in pairs, for a machine whose speed
# drifts within minutes: each round runs both (order alternating), and the summary gives
# each side's medians and the median of the per-round ratios B/A.
#
#   scripts/bench-pairs.sh OLD_BINARY NEW_BINARY ROUNDS [ai-turn options...]
#   PIN="taskset -c 1" scripts/bench-pairs.sh ...   # both pinned to one CPU
#
# Needs python3 (for the JSON and the medians).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 OLD_BINARY NEW_BINARY ROUNDS [ai-turn options...]" >&2
  exit 2
fi
a=$1 b=$2 rounds=$3
shift 3
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
  if [ $((round % 2)) = 1 ]; then order="A B"; else order="B A"; fi
  for side in $order; do
    if [ "$side" = A ]; then bin=$a; else bin=$b; fi
    # shellcheck disable=SC2086 # PIN is a command prefix, split on purpose
    json=$(${PIN:-} "$bin" ai-turn --json "$@" 2>/dev/null)
    echo "$round $side $json" >>"$results"
  done
done
python3 - "$results" <<'PY'
import json, statistics as st, sys
keys = ["chat_p50_ms", "chat_p99_ms", "draft_p50_ms", "draft_p99_ms"]
runs = {}
for line in open(sys.argv[1]):
    round_, side, doc = line.split(" ", 2)
    runs.setdefault(round_, {})[side] = json.loads(doc)
for side in "AB":
    docs = [r[side] for r in runs.values()]
    medians = ", ".join(f"{k} {st.median(d[k] for d in docs):.2f}" for k in keys)
    met = ", ".join(f"{k} {sum(d[k] <= d['goal_p99_ms'] for d in docs)}" for k in keys[1::2])
    print(f"{side}: {medians} (medians of {len(docs)} runs); runs with p99 <= goal: {met}")
ratios = ", ".join(f"{k} {st.median(r['B'][k] / r['A'][k] for r in runs.values()):.2f}" for k in keys)
print(f"paired B/A: {ratios}")
PY
