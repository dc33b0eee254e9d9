#!/usr/bin/env bash
# Two-thread scaling of one env id (docs/benchmarks.md): `rapt bench ENV --envs ENVS` on 1
# and on 2 threads, alternating, RUNS pairs in one run; prints each pair's steps/s and
# ratio, then the median ratio. RAPT_BIN=PATH measures another build (e.g. an older one)
# instead of this checkout's release binary.
#   scripts/bench-threads.sh [ENV] [RUNS] [ENVS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
env_id=${1:-Drive-v0}
runs=${2:-5}
envs=${3:-16}
seconds=${4:-5}
if [[ -z ${RAPT_BIN:-} ]]; then
    make -s build >/dev/null
fi
bin=${RAPT_BIN:-./target/release/rapt}
sps() { "$bin" bench "$env_id" --envs "$envs" --threads "$1" --seconds "$seconds" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["sps"])'; }
ratios=()
for k in $(seq "$runs"); do
    one=$(sps 1)
    two=$(sps 2)
    ratio=$(python3 -c "import sys; print(f'{float(sys.argv[2])/float(sys.argv[1]):.3f}')" "$one" "$two")
    ratios+=("$ratio")
    printf '%s, %s envs, run %s: 1 thread %.0f steps/s, 2 threads %.0f steps/s, %sx\n' \
        "$env_id" "$envs" "$k" "$one" "$two" "$ratio"
done
python3 -c "import statistics,sys; print(f'median 2 threads / 1: {statistics.median(map(float, sys.argv[1:])):.2f}x')" "${ratios[@]}"
