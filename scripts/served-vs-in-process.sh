#!/usr/bin/env bash
# Does a PPO run shaped by a learned model through `rapt reward-serve` compute what the same
# run scoring in-process computes? Four runs of configs/push-shaped-fast.ron (seed 1,
# STEPS env steps, one env thread, pinned to core 0; the server on core 1 with one torch
# thread), shaped by the shipped Push model: in-process and served, each with the model
# scoring batches as they come and in fixed passes of 16 frame sets (`fixed_batch`,
# `--fixed-batch 16`). Prints, per pair, how many metrics rows (wall-time columns left
# out) are identical and the first env step where they differ, and each run's steps/s.
#   scripts/served-vs-in-process.sh [STEPS] [OUT]     # default 320000 runs/served-vs-local
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-320000}
out=${2:-runs/served-vs-local}
bin=${RAPT_BIN:-./target/release/rapt}
model=assets/reward-models/push
port=8231
compare() {
python3 - "$out" <<'PY'
import csv, sys
out = sys.argv[1]
def table(name):
    with open(f"{out}/{name}/metrics.csv") as f:
        return list(csv.DictReader(f))
def rows(name, keep):
    return [tuple(row[k] for k in keep) for row in table(name)], table(name)
for a, b in [("local", "served"), ("local-fixed", "served-fixed"), ("local", "local-fixed")]:
    # The columns both have, wall times left out (a served run adds its remote counters).
    keep = [k for k in table(a)[0] if k in table(b)[0] and "SPS" not in k and "seconds" not in k]
    (ra, full), (rb, _) = rows(a, keep), rows(b, keep)
    same = next((i for i, (x, y) in enumerate(zip(ra, rb)) if x != y), None)
    first = "never" if same is None else f"at step {full[same]['global_step']}"
    n = len(ra) if same is None else same
    print(f"{a} vs {b}: {n} of {min(len(ra), len(rb))} metrics rows identical; first difference {first}")
for name in ["local", "served", "local-fixed", "served-fixed"]:
    full = table(name)
    sps = [float(r["charts/SPS"]) for r in full if r["charts/SPS"] not in ("", "nan")]
    print(f"{name}: {sps[-1]:.0f} steps/s")
PY
}

# COMPARE_ONLY=1: compare the runs already in OUT.
if [ "${COMPARE_ONLY:-}" = 1 ]; then
    compare
    exit 0
fi
rm -rf "$out"
mkdir -p "$out"

train() { # NAME SHAPING
    taskset -c 0 "$bin" train configs/push-shaped-fast.ron --set seed=1 --set env.threads=1 \
        --set train.total_steps="$steps" --set "shaping=$2" --no-final-eval \
        --run-dir "$out/$1" >"$out/$1.log" 2>&1
}
serve() { # FIXED_BATCH_ARGS...
    taskset -c 1 "$bin" reward-serve "$model" --name push --addr "127.0.0.1:$port" \
        --threads 1 "$@" >"$out/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        grep -q serving "$out/serve.log" 2>/dev/null && return
        sleep 0.2
    done
    echo "the server did not start: $out/serve.log" >&2
    exit 1
}
remote="Remote(url: \"http://127.0.0.1:$port/v1\", model: \"push\", protocol: Progress, views: [\"front\", \"side\", \"wrist\"], image_size: 32, max_in_flight: 16)"

train local "Potential(model: Learned(path: \"$model\"), scale: 10.0)"
serve
train served "Potential(model: $remote, scale: 10.0)"
kill -INT "$server"; wait "$server" || true
train local-fixed "Potential(model: Learned(path: \"$model\", fixed_batch: Some(16)), scale: 10.0)"
serve --fixed-batch 16
train served-fixed "Potential(model: $remote, scale: 10.0)"
kill -INT "$server"; wait "$server" || true
compare
