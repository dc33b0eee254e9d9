#!/usr/bin/env bash
# A seed campaign for one config: one run at a time, alone on the machine, with the
# config's own `env.threads` (the setting its wall-time figures are claimed for).
#   scripts/campaign.sh OUT CONFIG SEED... [-- --set PATH=VALUE...]
# Seed N goes to OUT/s<N> (log OUT/s<N>.log). Re-running skips finished runs and resumes
# interrupted ones from their newest checkpoint. Afterwards: `rapt report OUT/s*`.
# For side-by-side runs pinned to a core each, use scripts/ablate.sh instead.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/campaign.sh OUT CONFIG SEED... [-- --set PATH=VALUE...]}
config=${2:?usage: scripts/campaign.sh OUT CONFIG SEED... [-- --set PATH=VALUE...]}
shift 2
seeds=()
while (($#)) && [ "$1" != "--" ]; do
    seeds+=("$1")
    shift
done
[ "${1:-}" = "--" ] && shift
bin=${RAPT_BIN:-./target/release/rapt}
[ -x "$bin" ] || cargo build --release -q --bin rapt
mkdir -p "$out"
for seed in "${seeds[@]}"; do
    dir=$out/s$seed log=$out/s$seed.log
    if grep -q "final evaluation" "$log" 2>/dev/null; then
        echo "s$seed: done"
    elif ls "$dir"/checkpoints/update-* >/dev/null 2>&1; then
        echo "s$seed: resuming"
        "$bin" train --resume "$dir" >>"$log" 2>&1 || echo "s$seed: failed ($log)"
    else
        echo "s$seed: starting"
        rm -rf "$dir"
        "$bin" train "$config" --run-dir "$dir" --set "seed=$seed" "$@" >"$log" 2>&1 ||
            echo "s$seed: failed ($log)"
    fi
done
grep -H "final evaluation" "$out"/s*.log || true
