"""Plot learning curves from runs' metrics.csv into a PNG (for docs/).

    .venv-bench/bin/python scripts/plot-curves.py OUT.png COLUMN LABEL=RUN_DIR[,RUN_DIR...][:COLUMN] ...

COLUMN is a metrics.csv column, e.g. `eval/success_rate`, `eval/driving_score`,
`charts/success_rate`; a series may name its own after the run directories. A series of
several run directories (seeds) is drawn as their mean over the steps they all logged, with
the range between the lowest and the highest seed shaded. Needs matplotlib
(`.venv-bench/bin/pip install matplotlib`).
"""

import csv
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def series(run_dir: str, column: str) -> dict[int, float]:
    """Step → value of `column`; a step logged twice (a resumed run) keeps its last value."""
    points = {}
    with open(f"{run_dir}/metrics.csv") as f:
        for row in csv.DictReader(f):
            if column not in row:
                sys.exit(f"{run_dir}/metrics.csv has no column {column!r}")
            v = float(row[column])
            if not math.isnan(v):
                points[int(row["global_step"])] = v
    return points


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, column, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    for spec in specs:
        label, dirs = spec.split("=", 1)
        dirs, _, own = dirs.partition(":")
        col = own or column
        runs = [series(d, col) for d in dirs.split(",")]
        steps = sorted(set.intersection(*(set(r) for r in runs)))
        values = [[r[s] for r in runs] for s in steps]
        # Periodic evaluations hold their value until the next one: draw steps.
        style = "steps-post" if col.startswith("eval/") else "default"
        mean = [sum(v) / len(v) for v in values]
        (line,) = ax.plot(steps, mean, label=label, drawstyle=style)
        if len(runs) > 1:
            ax.fill_between(
                steps,
                [min(v) for v in values],
                [max(v) for v in values],
                step="post" if style == "steps-post" else None,
                color=line.get_color(),
                alpha=0.2,
                linewidth=0,
            )
    ax.set_xlabel("env steps")
    ax.set_ylabel(column)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main()
