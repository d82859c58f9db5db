"""How do a trained policy's episodes end? Play it deterministically, one episode per env, and count.

``python -m benchmarks.play_outcomes RUN_DIR --num-envs 1024 --label side-bend [KEY=VALUE ...]`` plays the run's
mean action (its task and overrides, plus the ones given: an A/B of one setting on one policy) until every env has
ended one episode, and writes ``benchmarks/results/play-outcomes-<task>-<label>.json``: the share of the envs'
first episodes ended by each termination term (terms firing on the same step joined by ``+``), the mean return,
the checkpoint and its epoch, and the same shares per terrain level the envs started on. Training curves log the
stochastic policy's terminations; this is the policy a user deploys. Every env starts on the terrain's first row,
as in training, unless ``--all-levels`` spreads them over all rows (the dense rows a trained policy was promoted to).
"""

from __future__ import annotations

import argparse
import collections
import json
import socket
from pathlib import Path

import torch

from stripe_kit.files import atomic_path

RESULTS = Path(__file__).resolve().parent / "results"


class FirstEpisodeEnds:
    """Records, per env, the termination terms that ended its first episode."""

    def __init__(self) -> None:
        self.ends: list[str] | None = None
        self.levels: list[int] | None = None
        """Terrain level (row) each env started its first episode on."""

    def __call__(self, env) -> None:
        terminations = env.termination_manager
        if self.ends is None:
            self.ends = [""] * env.num_envs
            levels = getattr(env.scene.terrain, "terrain_levels", None)
            # read after the first step: an env that ended then has its level moved by the reset; few do
            self.levels = levels.tolist() if levels is not None else [0] * env.num_envs
        done = terminations.dones
        if not bool(done.any()):
            return
        names = list(terminations.active_terms)
        fired = torch.stack([terminations.get_term(name) for name in names], dim=1).cpu()
        for env_id in torch.nonzero(done).flatten().tolist():
            if not self.ends[env_id]:
                self.ends[env_id] = "+".join(name for k, name in enumerate(names) if fired[env_id, k])

    def shares(self) -> dict[str, float]:
        """Share of envs whose first episode ended by each (combination of) term(s)."""
        counts = collections.Counter(self.ends or [])
        return {name: count / len(self.ends) for name, count in sorted(counts.items())}

    def shares_by_level(self) -> dict[int, dict[str, float]]:
        """:meth:`shares` of the envs that started on each terrain level, with their count as ``envs``."""
        by_level: dict[int, list[str]] = collections.defaultdict(list)
        for level, end in zip(self.levels or [], self.ends or []):
            by_level[level].append(end)
        return {level: {"envs": len(ends), **{name: count / len(ends)
                                              for name, count in sorted(collections.Counter(ends).items())}}
                for level, ends in sorted(by_level.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run directory or checkpoint")
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", default="default", help="name of this configuration in the results file name")
    parser.add_argument("--all-levels", action="store_true",
                        help="start the envs on random terrain levels (all rows) instead of the first row")
    parser.add_argument("--machine", default=socket.gethostname())
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("overrides", nargs="*", help="KEY=VALUE overrides on top of the run's own")
    args = parser.parse_intermixed_args()  # overrides may follow the options
    from stripe_kit.train.play import play

    ends = FirstEpisodeEnds()
    overrides = tuple(args.overrides) + (("env.scene.terrain.max_init_terrain_level=None",) if args.all_levels else ())
    result = play(args.run, episodes=args.num_envs, num_envs=args.num_envs, device=args.device, seed=args.seed,
                  overrides=overrides, after_step=ends)
    record = {
        "benchmark": "play_outcomes",
        "machine": args.machine,
        "task": result.task,
        "checkpoint": str(result.checkpoint),
        "epoch": result.epoch,
        "num_envs": args.num_envs,
        "seed": args.seed,
        "overrides": list(overrides),
        "mean_return": result.mean_return,
        "first_episode_ends": ends.shares(),
        "first_episode_ends_by_level": ends.shares_by_level(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"play-outcomes-{result.task}-{args.label}.json"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
