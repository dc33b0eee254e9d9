#!/usr/bin/env bash
# The figures of a reward-model card: `rapt reward-model eval` of MODEL on each held-out
# dataset, as one markdown table row per dataset (episodes, VOC with its successful-episode
# count and the oracle's own VOC, MAE against the oracle Φ, stage accuracy).
#   scripts/reward-model-figures.sh MODEL DATASET...
# Set PLOT=FILE to also write the calibration plot of the first dataset.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: scripts/reward-model-figures.sh MODEL DATASET...}
shift
[ $# -gt 0 ] || { echo "usage: scripts/reward-model-figures.sh MODEL DATASET..." >&2; exit 2; }
rapt=${RAPT_BIN:-./target/release/rapt}
[ -x "$rapt" ] || cargo build --release -q --bin rapt
echo "| held-out set | episodes | VOC (successful episodes; oracle's own) | MAE vs oracle Φ | stage accuracy |"
echo "|---|---|---|---|---|"
plot=(${PLOT:+--plot "$PLOT"})
for set in "$@"; do
    "$rapt" reward-model eval "$model" "$set" --json "${plot[@]}" |
        python3 <(cat <<'PYEOF'
import json, sys
r = json.load(sys.stdin)
voc = r["voc"]
voc = "—" if voc is None or r["voc_episodes"] < 5 else f"{voc:.3f}"
oracle = r["oracle_voc"]
oracle = "—" if oracle is None else f"{oracle:.3f}"
print(f"| `{sys.argv[1]}` | {r['episodes']} | {voc} ({r['voc_episodes']}; {oracle}) "
      f"| {r['mae']:.3f} | {r['stage_accuracy']:.3f} |")
PYEOF
) "$set"
    plot=()
done
