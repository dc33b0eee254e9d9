# Sourced by scripts/{train,compare}-reward-models.sh: a task's (push, pickplace, insert)
# shaped run config, read for its env id and parameters, and its own reward model.

# The env id of TASK's config (configs/TASK-shaped-fast.ron).
env_of() { sed -n 's/^ *id: "\(.*\)",.*/\1/p' "configs/$1-shaped-fast.ron" | head -1; }
# The env parameters of TASK's config, as `--params` takes them.
params_of() { sed -n 's/^ *params: \(.*\),$/\1/p' "configs/$1-shaped-fast.ron" | head -1; }
# The shaping form of TASK's config (`Potential` or `ProgressAsReward`) and its scale k.
shaping_of() { sed -n 's/^ *shaping: \([A-Za-z]*\)(.*/\1/p' "configs/$1-shaped-fast.ron" | head -1; }
scale_of() { sed -n 's/^ *shaping: .*scale: *\([0-9.]*\)).*/\1/p' "configs/$1-shaped-fast.ron" | head -1; }
# TASK's own model given WORK_DIR: the recipe's result WORK_DIR/TASK/model, or where this
# machine has no recipe directory, the shipped model of the task's env.
own_model() {
    if [ -d "$2/$1/model" ]; then echo "$2/$1/model"; else echo "assets/reward-models/$(env_of "$1")"; fi
}
