#!/usr/bin/env bash
# CARLA's towns (OpenDRIVE) against the generated towns, in one run: `rapt bench` on one
# core (taskset), alternating Drive-v0 and DriveTown01-v0 / DriveTown02-v0 round by round
# so that machine load hits both alike, with the raster observation (the ids' defaults)
# and with `observation: Vector`. Each id keeps its own traffic at the same density
# (cars per km of road lane: Drive-v0 24 on 2.64 km on average, Town01 45 on 5.0 km,
# Town02 19 on 2.1 km). Prints steps/s per core and the ratio to Drive-v0.
#   scripts/bench-towns.sh [SECONDS] [ROUNDS] [CORE]   (RAPT_BIN: a saved build to use)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-3}
core=${3:-0}
bin=${RAPT_BIN:-target/release/rapt}
[ -x "$bin" ] || cargo build --release -q --bin rapt
sps() {
    taskset -c "$core" "$bin" bench "$1" --envs 32 --threads 1 \
        --seconds "$seconds" --params "$2" --json |
        python3 -c "import json,sys; print(json.load(sys.stdin)['sps'])"
}
printf '%-16s %-8s %12s %12s %8s\n' env obs steps/s Drive-v0 ratio
for obs in "()" "(observation: Vector)"; do
    for town in DriveTown01-v0 DriveTown02-v0; do
        a=0; b=0
        for _ in $(seq "$rounds"); do
            a=$(python3 -c "print($a + $(sps Drive-v0 "$obs"))")
            b=$(python3 -c "print($b + $(sps "$town" "$obs"))")
        done
        python3 - "$town" "$obs" "$a" "$b" "$rounds" <<'PY'
import sys
town, obs, a, b, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
name = "raster" if obs == "()" else "vector"
print(f"{town:<16} {name:<8} {b / n:>12,.0f} {a / n:>12,.0f} {b / a:>7.2f}x")
PY
    done
done
