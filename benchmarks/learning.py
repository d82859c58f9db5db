"""Does a task learn? Train it, measure a random policy on the same env, and plot the learning curve.

``python -m benchmarks.learning --task Stripe-Forest-Walk-Ant --num-envs 64 --iterations 60 --device cpu`` writes
``benchmarks/results/learning-<task>-<machine>.json`` and ``.png``: the random policy's mean episode return and task
metrics (measured in a separate process, one simulation per process), the per-epoch training curve read back from
the run's TensorBoard logs, and training throughput (rl_games frames/s over whole epochs, collection plus update).

For long GPU runs: ``--time-limit S`` stops the training after S seconds (SIGTERM: it ends at the next epoch with a
checkpoint) and ``--resume`` continues the run in ``--runs-dir`` up to ``--iterations`` epochs in all, so a run
longer than one job accumulates over several; the curve covers every epoch. ``--physics physx`` trains on PhysX,
``--frontend warp`` on Isaac Lab's Warp frontend;
``--tasks MODULE`` loads tasks from a module (``--no-random`` then skips the random policy when the task is not a
TrainingSpec). The summary gives the last 10 % of epochs' mean of every termination share and command metric
(``Metrics/base_velocity/error_vel_xy`` for velocity tasks).
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stripe_kit.files import atomic_path

from . import gpu_name, run_python, spread

RESULTS = Path(__file__).resolve().parent / "results"

RANDOM_POLICY = """
import json, torch, gymnasium as gym
from stripe_kit.task import REGISTERED
from stripe_kit.train.tasks import load_tasks
load_tasks()
cfg = REGISTERED[{task!r}].env_cfg(num_envs={num_envs}, device={device!r}, physics={physics!r})
cfg.seed = {seed}
env = gym.make({task!r}, cfg=cfg).unwrapped
env.reset(seed={seed})
returns = torch.zeros(env.num_envs, device=env.device)
finished = torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)
episode_returns, successes = [], []
has_goal = "goal_reached" in env.termination_manager.active_terms
for _ in range(int(env.max_episode_length) + 2):
    actions = torch.rand(env.num_envs, env.action_manager.total_action_dim, device=env.device) * 2 - 1
    _, reward, terminated, truncated, _ = env.step(actions)
    returns += reward
    done = terminated | truncated
    first = done & ~finished
    episode_returns += returns[first].tolist()
    if has_goal:
        successes += env.termination_manager.get_term("goal_reached")[first].float().tolist()
    finished |= done
    returns[done] = 0.0
    if finished.all():
        break
print("RESULT " + json.dumps({{"episodes": len(episode_returns), "mean_return": sum(episode_returns) / len(episode_returns),
      "success_rate": (sum(successes) / len(successes)) if successes else None}}))
"""


def read_curve(summaries: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series of a run's TensorBoard logs, as (step, value) pairs."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(summaries), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def tail_means(curve: dict[str, list[tuple[int, float]]], fraction: float = 0.1) -> dict[str, float]:
    """Mean over the last ``fraction`` of epochs of every termination share, command metric and episode return."""
    means = {}
    for tag, series in curve.items():
        name = tag.removeprefix("Episode/")
        if name.startswith(("Episode_Termination/", "Metrics/")) or tag in ("rewards/iter", "episode_lengths/iter"):
            values = [value for _, value in series]
            tail = values[-max(int(len(values) * fraction), 1):]
            means[name] = statistics.mean(tail)
    return means


def plot(curve: dict, random_return: float | None, title: str, path: Path) -> None:
    """Mean episode return per epoch against the random policy, then the task's own measures: the success rate or
    progress, the velocity tracking error, and how episodes end."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("rewards/iter", "mean episode return")]
    success = "Episode/Episode_Termination/goal_reached"
    if success in curve:
        panels.append((success, "episodes ending at the goal"))
    elif "Episode/Episode_Reward/progress" in curve:
        panels.append(("Episode/Episode_Reward/progress", "progress reward per second"))
    errors = [tag for tag in curve if tag.startswith("Episode/Metrics/") and "error_vel" in tag]
    if errors:
        panels.append((errors, "velocity tracking error [m/s, rad/s]"))
    endings = sorted(tag for tag in curve if tag.startswith("Episode/Episode_Termination/"))
    if endings:
        panels.append((endings, "share of episodes ending by"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (tags, label) in zip(axes[0], panels):
        for tag in [tags] if isinstance(tags, str) else tags:
            steps, values = zip(*curve.get(tag, [(0, float("nan"))]))
            ax.plot(steps, values, label=None if isinstance(tags, str) else tag.rsplit("/", 1)[-1])
        if tags == "rewards/iter" and random_return is not None:
            ax.axhline(random_return, color="tab:red", linestyle="--", label="random policy")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=7)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def train(args: argparse.Namespace, run_dir: Path) -> float:
    """Train (or continue) the run; returns the wall-clock seconds it took. A time limit stops it with SIGTERM."""
    cli = Path(sys.executable).with_name("stripe-kit")
    command = [str(cli) if cli.exists() else sys.executable, *([] if cli.exists() else ["-m", "stripe_kit.cli"]),
               "train", "--max-iterations", str(args.iterations), "--progress", "lines"]
    for module in args.tasks:
        command += ["--tasks", module]
    if args.resume and (run_dir / "run.json").exists():
        command += ["--resume", str(run_dir)]
    else:
        command += ["--task", args.task, "--num-envs", str(args.num_envs), "--device", args.device, "--seed",
                    str(args.seed), "--physics", args.physics, "--frontend", args.frontend, "--run-name", run_dir.name,
                    "--runs-dir", str(run_dir.parent.parent)]
    command += args.overrides
    start = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=args.time_limit)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the run ends at its next epoch boundary, with a checkpoint
        out, err = proc.communicate()
    if proc.returncode:
        raise RuntimeError(out[-3000:] + err[-3000:])
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="Stripe-Forest-Walk-Ant")
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=60, help="epochs in all (a resumed run continues up to it)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--physics", default="newton", choices=("newton", "physx"))
    parser.add_argument("--frontend", default="torch", choices=("torch", "warp"),
                        help="Isaac Lab's torch managers or its Warp frontend (the step captured on CUDA)")
    parser.add_argument("--runs-dir", default=None, help="where the training run goes (default: a temp dir)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --runs-dir if there is one")
    parser.add_argument("--time-limit", type=float, default=None, help="stop training after this many seconds")
    parser.add_argument("--tasks", action="append", default=[], help="module or file of tasks to load (repeatable)")
    parser.add_argument("--no-random", action="store_true", help="skip the random-policy baseline")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory (default benchmarks/results)")
    parser.add_argument("overrides", nargs="*", help="KEY=VALUE overrides passed to stripe-kit train")
    args = parser.parse_args()

    suffix = ("" if args.physics == "newton" else f"-{args.physics}") + ("" if args.frontend == "torch" else f"-{args.frontend}")
    machine = f"{socket.gethostname()}-{args.device.split(':')[0]}"
    stem = args.out / f"learning-{args.task}{suffix}-{machine}"
    earlier = json.loads(stem.with_suffix(".json").read_text()) if args.resume and stem.with_suffix(".json").exists() else {}
    if args.no_random or args.tasks:
        baseline = earlier.get("random_policy")
    else:
        baseline = earlier.get("random_policy") or run_python(RANDOM_POLICY.format(
            task=args.task, num_envs=args.num_envs, device=args.device, seed=args.seed, physics=args.physics))
    runs_dir = Path(args.runs_dir or tempfile.mkdtemp(prefix="stripe-learning-"))
    run_dir = runs_dir / args.task / "learning"
    wall_s = train(args, run_dir)
    curve = read_curve(run_dir / "summaries")
    rewards = [value for _, value in curve.get("rewards/iter", [])] or [float("nan")]  # none before an episode ends
    fps = [value for _, value in curve.get("performance/step_inference_rl_update_fps", [])][2:]
    tail = rewards[-max(len(rewards) // 10, 1):]
    epochs = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    result = {
        "task": args.task,
        "num_envs": args.num_envs,
        "iterations": len(rewards),
        "device": args.device,
        "physics": args.physics,
        "frontend": args.frontend,
        "machine": {"host": socket.gethostname(), "cpu": platform.processor() or platform.machine(), "gpu": gpu_name()},
        "command": " ".join(sys.argv),
        "training_wall_s": earlier.get("training_wall_s", 0.0) + wall_s,
        "random_policy": baseline,
        "first_epoch_mean_return": rewards[0],
        "final_mean_return": statistics.mean(tail),
        "improvement_over_random": statistics.mean(tail) - baseline["mean_return"] if baseline else None,
        "last_10_percent": tail_means(curve),
        "training_frames_per_s": spread(fps) if fps else None,
        "frames": epochs[-1].get("frames") if epochs else None,
        "curve": {tag: series for tag, series in curve.items() if tag.endswith("/iter") or "success" in tag or tag.startswith("Episode")},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_path(stem.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(result, indent=1))
    plot(curve, baseline["mean_return"] if baseline else None,
         f"{args.task}, {args.num_envs} envs, {args.device}, {args.physics}, {args.frontend} frontend",
         stem.with_suffix(".png"))
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=1))


if __name__ == "__main__":
    main()
