#!/usr/bin/env bash
# The learning comparison in docs/rewards.md: Push-v0 with the sparse reward alone, with
# oracle potential shaping (k = 10) and with the Φ-as-reward ablation (k = 10), seeds 1-3
# (PPO with an entropy bonus of 0.01, as the configs say),
# and PickPlace-v0 the same with seed 1; 5M steps each (the configs' budget). With
# `--learned`, also Push-v0 shaped by the learned reward model in runs/rm-push-v4/model
# (configs/push-learned.ron, docs/reward-models.md), seeds 1-3. Two runs at a
# time, one env thread each, into runs/cmp/NAME (log: runs/cmp/NAME.log). Re-running skips
# finished runs and resumes interrupted ones from their newest checkpoint, so the
# comparison can be spread over several sittings.
#   scripts/shaping-comparison.sh [--learned] [PARALLEL]
set -euo pipefail
cd "$(dirname "$0")/.."
learned=0
if [ "${1:-}" = --learned ]; then learned=1; shift; fi
parallel=${1:-2}
cargo build --release -q --bin rapt
mkdir -p runs/cmp
runs=()
# Potential shaping first (the headline), then the learned model (with --learned), the
# ablation and the sparse baseline.
variants=(shaped)
if [ "$learned" = 1 ]; then variants+=(learned); fi
variants+=(trap sparse)
for variant in "${variants[@]}"; do
    for seed in 1 2 3; do
        runs+=("push-$variant-s$seed configs/push-$variant.ron --set seed=$seed")
    done
done
runs+=("pickplace-shaped-s1 configs/pickplace.ron"$'\t'"shaping=Potential(model: Oracle, scale: 10.0)")
runs+=("pickplace-sparse-s1 configs/pickplace.ron")
runs+=("pickplace-trap-s1 configs/pickplace.ron"$'\t'"shaping=ProgressAsReward(model: Oracle, scale: 10.0)")

one() {
    local name=$1 config=$2 shaping=$3 dir=runs/cmp/$1 log=runs/cmp/$1.log
    shift 3
    if grep -q "final evaluation" "$log" 2>/dev/null; then
        echo "$name: done"
        return
    fi
    if ls "$dir"/checkpoints/update-* >/dev/null 2>&1; then
        echo "$name: resuming"
        ./target/release/rapt train --resume "$dir" >>"$log" 2>&1
        return
    fi
    echo "$name: starting"
    rm -rf "$dir"
    local extra=()
    if [ -n "$shaping" ]; then extra+=(--set "$shaping"); fi
    if [[ $name == pickplace-* ]]; then
        # The sparse reward and the Push runs' entropy bonus; the rest is pickplace.ron's.
        extra+=(--set "env.params=(reward: Sparse)" --set ppo.ent_coef=0.01)
    fi
    ./target/release/rapt train "$config" --run-dir "$dir" --set env.threads=1 "$@" \
        "${extra[@]}" >"$log" 2>&1
}

active=0
for spec in "${runs[@]}"; do
    IFS=$'\t' read -r head shaping <<<"$spec"
    read -r name config rest <<<"$head"
    # shellcheck disable=SC2086
    one "$name" "$config" "${shaping:-}" $rest &
    active=$((active + 1))
    if [ "$active" -ge "$parallel" ]; then
        wait -n
        active=$((active - 1))
    fi
done
wait
grep -h "final evaluation" runs/cmp/*.log || true
