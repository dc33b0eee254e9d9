#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/benchmarks.md): PPO on Push-v0 (configs/push.ron,
# 1 env thread per rank) under `mpirun -np 1` and `mpirun -np 2` with the same per-rank
# settings — each rank steps 32 envs, so -np 2 trains on twice the steps in about the same
# time — PAIRS times in one run; prints each one's training steps/s (`charts/SPS` of the last
# update), their ratio, and the all-reduce's share of an update (`charts/allreduce_seconds`).
#   scripts/bench-mpi.sh [PAIRS] [UPDATES]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-2}
updates=${2:-10}
make -s build >/dev/null
bin=$PWD/target/release/rapt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
batch=3200 # 32 envs × 100 steps per rank
run() { # NAME RANKS
    mpirun --allow-run-as-root --oversubscribe -np "$2" "$bin" train configs/push.ron \
        --run-dir "$work/$1" --no-final-eval --set env.threads=1 --set train.eval_every_updates=0 \
        --set "train.total_steps=$((updates * batch * $2))" >"$work/$1.log" 2>&1 ||
        { cat "$work/$1.log"; exit 1; }
}
summary() { # RUN_DIR → "sps allreduce_s_per_update update_s"
    python3 - "$1/metrics.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sps = float(rows[-1]["charts/SPS"])
ar = [float(r["charts/allreduce_seconds"]) for r in rows if r.get("charts/allreduce_seconds")]
steps_per_update = int(rows[0]["global_step"])
print(sps, sum(ar) / len(ar) if ar else 0.0, steps_per_update / sps)
PY
}
for k in $(seq "$pairs"); do
    run "one-$k" 1
    run "two-$k" 2
    read -r a _ _ <<<"$(summary "$work/one-$k")"
    read -r b ar upd <<<"$(summary "$work/two-$k")"
    python3 -c "import sys; a,b,ar,u=map(float,sys.argv[1:]); print(f'pair $k: -np 1 {a:,.0f} steps/s, -np 2 {b:,.0f} steps/s, ratio {b/a:.2f}; all-reduce {ar*1000:.0f} ms of a {u:.2f} s update ({ar/u:.1%})')" "$a" "$b" "$ar" "$upd"
done
