#!/usr/bin/env bash
# Rebuilds the shipped Push-v0 reward model (assets/reward-models/push, its CARD.md): the
# recorded data, then two on-policy rounds (DAgger for reward models: record the states PPO
# visits when shaped by the current model, where the model is wrong, and train on them).
#   scripts/train-push-reward-model.sh [WORK_DIR]     # default runs/push-rm; ~70 min on 2 cores
# Each PPO run is pinned to one core (`taskset`), two at a time: torch gives each process
# every core it sees, and two unpinned trainings on 2 cores ran 4x slower.
# The model lands in WORK_DIR/rm-push-v5/model; compare it with `rapt reward-model eval`
# on the held-out sets before copying it over assets/reward-models/push.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-runs/push-rm}
data=$work/data
cargo build --release -q --bin rapt
rapt=$PWD/target/release/rapt
mkdir -p "$data"

shaped_by() { # MODEL_DIR: the shaping block of configs/push-asset.ron with another model
    echo "shaping=Potential(model: Learned(path: \"$1\"), scale: 10.0)"
}
ppo() { # CORE CONFIG SEED STEPS RUN [--set ...]
    local core=$1 config=$2 seed=$3 steps=$4 run=$5
    shift 5
    taskset -c "$core" "$rapt" train "$config" --set seed="$seed" --set env.threads=1 \
        --set train.total_steps="$steps" --run-dir "$work/$run" --no-final-eval "$@"
}
record() { # RUN SEED EPISODES OUT
    "$rapt" record Push-v0 --policy "$work/$1" --seed "$2" --episodes "$3" --out "$data/$4"
}

# Recorded data: 40% expert, 40% perturbed expert, 20% random episodes.
"$rapt" record Push-v0 --episodes 300 --seed 0 --out "$data/push-train"
"$rapt" record Push-v0 --episodes 60 --seed 100000 --out "$data/push-heldout"
"$rapt" reward-model train "$data/push-train" --config configs/reward-models/default.ron \
    --run-dir "$work/rm-push30" --device cpu
base=$work/rm-push30/model

# Round 1: an oracle-shaped policy and three policies shaped by the recorded-data model.
# (`wait PID` returns the background job's status, so `set -e` stops on its failure too.)
{
    ppo 0 configs/push-asset.ron 1 1500000 r1-asset-s1 --set "$(shaped_by "$base")"
    ppo 0 configs/push-asset.ron 3 1000000 r1-asset-s3 --set "$(shaped_by "$base")"
} &
core0=$!
ppo 1 configs/push-shaped.ron 1 1500000 r1-oracle-s1
record r1-oracle-s1 20000 150 push-r1
record r1-oracle-s1 520000 30 push-r1-heldout
ppo 1 configs/push-asset.ron 2 1000000 r1-asset-s2 --set "$(shaped_by "$base")"
wait "$core0"
for s in 1 2 3; do
    record r1-asset-s$s $((20000 + 1000 * s)) 150 push-r1
    record r1-asset-s$s $((520000 + 1000 * s)) 30 push-r1l-heldout
done
"$rapt" reward-model train "$data/push-train" "$data/push-r1" \
    --config configs/reward-models/default.ron --run-dir "$work/rm-r1" --epochs 16 --device cpu

# Round 2: two policies shaped by the round-1 model.
ppo 0 configs/push-asset.ron 1 1000000 r2-s1 --set "$(shaped_by "$work/rm-r1/model")" &
core0=$!
ppo 1 configs/push-asset.ron 2 1000000 r2-s2 --set "$(shaped_by "$work/rm-r1/model")"
wait "$core0"
for s in 1 2; do
    record r2-s$s $((30000 + 1000 * s)) 150 push-r2
    record r2-s$s $((530000 + 1000 * s)) 30 push-r2-heldout
done
"$rapt" reward-model train "$data/push-train" "$data/push-r1" "$data/push-r2" \
    --config configs/reward-models/default.ron --run-dir "$work/rm-push-v5" --epochs 16 --device cpu

for set in push-heldout push-r1-heldout push-r1l-heldout push-r2-heldout; do
    echo "== $set"
    "$rapt" reward-model eval "$work/rm-push-v5/model" "$data/$set"
done
