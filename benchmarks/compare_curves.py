"""Do two trainings learn alike? Overlay the learning curves of ``benchmarks.learning`` results, epoch by epoch.

``python -m benchmarks.compare_curves A.json B.json --labels torch warp --out curves`` writes ``curves.png`` (return,
progress or goal share, collision and fall shares, terrain level, each run in its own colour) and ``curves.json``:
for every compared tag, both runs' means over windows of ``--window`` epochs up to the shorter run's last epoch, and
beside the difference between the runs the noise it is judged against: each run's epoch-to-epoch spread (the standard
deviation of an epoch's value around its window's mean). Two runs from one seed on different frontends (or with a
different rl_games update) learn alike when their windows differ by about as much as one run's epochs do.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from stripe_kit.files import atomic_path

TAGS = ("rewards/iter", "Episode/Episode_Reward/progress", "Episode/Episode_Termination/goal_reached",
        "Episode/Episode_Termination/collision", "Episode/Episode_Termination/fallen", "Episode/Curriculum/terrain_levels")
"""Tags compared when both runs have them."""


def windows(series: list[list[float]], last: int, window: int) -> list[tuple[int, float, float]]:
    """(window's last epoch, mean, spread) of a ``[[epoch, value], ...]`` series over windows up to ``last``."""
    values = {int(epoch): value for epoch, value in series}
    rows = []
    for end in range(window, last + 1, window):
        chunk = [values[e] for e in range(end - window + 1, end + 1) if e in values]
        if len(chunk) > 1:
            rows.append((end, statistics.mean(chunk), statistics.stdev(chunk)))
    return rows


def compare(runs: list[dict], labels: list[str], window: int) -> dict:
    """The windowed means of each shared tag, their difference and each run's epoch-to-epoch spread."""
    last = min(max(int(epoch) for epoch, _ in run["curve"]["rewards/iter"]) for run in runs)
    result = {"labels": labels, "last_common_epoch": last, "window": window, "tags": {}}
    for tag in TAGS:
        if not all(tag in run["curve"] for run in runs):
            continue
        a, b = (windows(run["curve"][tag], last, window) for run in runs)
        rows = [{"epoch": end, labels[0]: ma, labels[1]: mb, "difference": mb - ma, "spread": max(sa, sb)}
                for (end, ma, sa), (_, mb, sb) in zip(a, b)]
        within = [abs(row["difference"]) <= 2 * row["spread"] for row in rows]
        result["tags"][tag] = {"windows": rows, "within_twice_the_spread": f"{sum(within)} of {len(within)}"}
    return result


def plot(runs: list[dict], labels: list[str], last: int, path: Path) -> None:
    """One panel per shared tag, both runs overlaid up to the last common epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tags = [tag for tag in TAGS if all(tag in run["curve"] for run in runs)]
    fig, axes = plt.subplots(1, len(tags), figsize=(4 * len(tags), 3.4), squeeze=False)
    for ax, tag in zip(axes[0], tags):
        for run, label in zip(runs, labels):
            points = [(epoch, value) for epoch, value in run["curve"][tag] if epoch <= last]
            ax.plot(*zip(*points), label=label, linewidth=1)
        ax.set_title(tag.rsplit("/", 1)[-1], fontsize=9)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"{runs[0]['task']}: {' vs '.join(labels)}, {runs[0]['num_envs']} envs")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs=2, type=Path, help="two benchmarks.learning result files (.json)")
    parser.add_argument("--labels", nargs=2, default=["a", "b"])
    parser.add_argument("--window", type=int, default=10, help="epochs per compared window (default 10)")
    parser.add_argument("--out", type=Path, required=True, help="output stem: <out>.png and <out>.json")
    args = parser.parse_args()
    runs = [json.loads(path.read_text()) for path in args.runs]
    result = compare(runs, args.labels, args.window)
    result["runs"] = [str(path) for path in args.runs]
    with atomic_path(args.out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(result, indent=1))
    plot(runs, args.labels, result["last_common_epoch"], args.out.with_suffix(".png"))
    for tag, summary in result["tags"].items():
        print(f"{tag}: windows within twice the spread: {summary['within_twice_the_spread']}")


if __name__ == "__main__":
    main()
