#!/usr/bin/env bash
# Issue 33's comparison: PPO shaped by the oracle Φ, by each task's recipe-built model and
# by the task-conditioned model, seeds 1-3, same config and budget
# (configs/TASK-shaped-fast.ron with only the model swapped), then `rapt report` (200
# held-out episodes per run, seeds from 1,000,000) per kind of shaping (OUT/report.md) and
# each seed's ratio to its oracle run (OUT/ratios.md, scripts/reward-model-ratios.py).
#   scripts/compare-reward-models.sh [WORK_DIR] [OUT] [TASKS...]
#   # defaults: runs/rm-recipe (from scripts/train-reward-models.sh), runs/rm-compare,
#   # push pickplace insert
# Seeds 1 and 2 of a task's own model are the runs of the recipe round that shipped it
# (same config, seeds and budget; WORK_DIR/TASK/report.json names them) when that round
# was shaped by WORK_DIR/TASK/model, and its oracle seeds are the recipe's reference runs
# (`oracle_fraction`); only the missing runs train here. Runs go two at a
# time, pinned to a core each (scripts/ablate.sh); rerunning resumes. KINDS (default
# "oracle learned multi") and SEEDS (default "1 2 3") pick the runs, e.g. KINDS="oracle
# learned" before the multi-task model exists; the reports leave out runs not on this
# machine (a run directory that is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-runs/rm-recipe}
out=${2:-runs/rm-compare}
shift 2 || shift $#
tasks=("${@:-push pickplace insert}")
read -r -a tasks <<<"${tasks[*]}"
read -r -a kinds <<<"${KINDS:-oracle learned multi}"
read -r -a seeds <<<"${SEEDS:-1 2 3}"
rapt=${RAPT_BIN:-./target/release/rapt}
[ -x "$rapt" ] || cargo build --release -q --bin rapt
mkdir -p "$out"

# TASK's config's shaping with MODEL swapped in (no spaces: ablate.sh splits on them).
shaped() { echo "--set shaping=$(shaping_of "$1")(model:Learned(path:\"$2\"),scale:$(scale_of "$1"))"; }

# The recipe's run of `seed` of `kind` (oracle: its reference runs; learned: the round
# shaped by the task's shipped model), if there is one.
recipe_run() {
    local task=$1 kind=$2 seed=$3
    [ -f "$work/$task/report.json" ] || return 0
    python3 - "$work/$task/report.json" "$kind" "$seed" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
kind, seed = sys.argv[2], int(sys.argv[3])
if kind == "oracle":
    policies = report.get("oracle", [])
else:
    policies = [p for r in report["rounds"] if r["shaped_by"] == report.get("result")
                for p in r["policies"]]
for p in policies:
    if p["seed"] == seed:
        print(p["run"])
EOF
}

# shellcheck source=scripts/reward-model-tasks.sh
. scripts/reward-model-tasks.sh

# The model each kind is shaped by (the oracle: none): the task's own (own_model), or the
# task-conditioned one, the recipe script's or else the shipped one.
model_of() {
    case $2 in
    learned) own_model "$1" "$work" ;;
    multi)
        if [ -d "$work/multi/model" ]; then echo "$work/multi/model"; else echo "assets/reward-models/multi"; fi
        ;;
    esac
}

spec=$out/spec
: >"$spec"
for t in "${tasks[@]}"; do
    config=configs/$t-shaped-fast.ron
    for s in "${seeds[@]}"; do
        for kind in "${kinds[@]}"; do
            [ "$kind" = multi ] || [ -z "$(recipe_run "$t" "$kind" "$s")" ] || continue
            line="$t-$kind-s$s $config --set seed=$s"
            [ "$kind" = oracle ] || line+=" $(shaped "$t" "$(model_of "$t" "$kind")")"
            echo "$line" >>"$spec"
        done
    done
done
scripts/ablate.sh "$out" "$spec"

for t in "${tasks[@]}"; do
    for kind in "${kinds[@]}"; do
        runs=()
        for s in "${seeds[@]}"; do
            run=$out/$t-$kind-s$s
            if [ "$kind" != multi ] && [ ! -d "$run" ]; then
                run=$(recipe_run "$t" "$kind" "$s")
            fi
            [ -d "$run" ] && runs+=("$run")
        done
        [ ${#runs[@]} -gt 0 ] || continue
        echo "## $t, $kind-shaped"
        "$rapt" report "${runs[@]}"
    done
done | tee "$out/report.md"

# Issue 33's table: each seed's learned- and multi-shaped success against its oracle run's.
python3 scripts/reward-model-ratios.py "$out/report.md" | tee "$out/ratios.md"
