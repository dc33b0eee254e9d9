#!/usr/bin/env bash
# Env throughput against a peer, in one run: `rapt bench` (release) and the same env in
# Gymnasium (SyncVectorEnv, one process), both per core, and their ratio. Installs the
# peer into .venv-bench (git-ignored) on first use.
#   scripts/bench-envs.sh [SECONDS] [ENVS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
envs=${2:-16}
venv=.venv-bench
if [[ ! -x $venv/bin/python ]] || ! $venv/bin/python -c 'import gymnasium' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q gymnasium==1.2.2
fi
cargo build --release -q --bin rapt
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
printf '%-12s %8s %14s %14s %8s %14s %10s\n' env envs rapt_1thr/core gym/core ratio rapt_2thr/core 2thr/1thr
for env in CartPole-v1 Pendulum-v1; do
    one=$(./target/release/rapt bench "$env" --envs "$envs" --threads 1 --seconds "$seconds" --json)
    peer=$("$venv/bin/python" benches/peers/gymnasium_classic.py "$env" --envs "$envs" --seconds "$seconds")
    two=$(./target/release/rapt bench "$env" --envs "$envs" --threads 2 --seconds "$seconds" --json)
    r1=$(field "$one" sps_per_core); p=$(field "$peer" sps_per_core)
    r2=$(field "$two" sps_per_core); s1=$(field "$one" sps); s2=$(field "$two" sps)
    python3 - "$env" "$envs" "$r1" "$p" "$r2" "$s1" "$s2" <<'PY'
import sys
env, n, r1, p, r2, s1, s2 = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
print(f"{env:<12} {n:>8} {r1:>14,.0f} {p:>14,.0f} {r1/p:>7.1f}x {r2:>14,.0f} {s2/s1:>9.2f}x")
PY
done
