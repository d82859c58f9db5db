"""Does a task learn? Train it, measure a random policy on the same env, and plot the learning curve.

``python -m benchmarks.learning --task Stripe-Forest-Walk-Ant --num-envs 64 --iterations 60 --device cpu`` writes
``benchmarks/results/learning-<task>-<machine>.json`` and ``.png``: the random policy's mean episode return and task
metrics (measured in a separate process, one simulation per process), the per-epoch training curve read back from
the run's TensorBoard logs, and training throughput (rl_games frames/s over whole epochs, collection plus update).
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
from pathlib import Path

from stripe_kit.files import atomic_path

from . import spread

RESULTS = Path(__file__).resolve().parent / "results"

RANDOM_POLICY = """
import json, torch, gymnasium as gym
from stripe_kit.task import REGISTERED
from stripe_kit.train.tasks import load_tasks
load_tasks()
cfg = REGISTERED[{task!r}].env_cfg(num_envs={num_envs}, device={device!r})
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


def _run_python(code: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-4000:])
    return json.loads(lines[-1][7:])


def read_curve(summaries: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series of a run's TensorBoard logs, as (step, value) pairs."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(summaries), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def plot(curve: dict, random_return: float, title: str, path: Path) -> None:
    """Mean episode reward per epoch against the random policy, plus episode length and any success rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("rewards/iter", "mean episode return"), ("episode_lengths/iter", "mean episode length [steps]")]
    success = "Episode/Episode_Termination/goal_reached"
    if success in curve:
        panels.append((success, "episodes ending at the goal"))
    elif "Episode/Episode_Reward/progress" in curve:
        panels.append(("Episode/Episode_Reward/progress", "progress reward per second"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6))
    for ax, (tag, label) in zip(axes, panels):
        steps, values = zip(*curve.get(tag, [(0, float("nan"))]))
        ax.plot(steps, values, color="tab:green")
        if tag == "rewards/iter":
            ax.axhline(random_return, color="tab:red", linestyle="--", label="random policy")
            ax.legend(loc="lower right")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="Stripe-Forest-Walk-Ant")
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs-dir", default=None, help="where the training run goes (default: a temp dir)")
    args = parser.parse_args()

    baseline = _run_python(RANDOM_POLICY.format(task=args.task, num_envs=args.num_envs, device=args.device, seed=args.seed))
    runs_dir = args.runs_dir or tempfile.mkdtemp(prefix="stripe-learning-")
    cli = Path(sys.executable).with_name("stripe-kit")
    command = [str(cli) if cli.exists() else sys.executable, *([] if cli.exists() else ["-m", "stripe_kit.cli"]),
               "train", "--task", args.task, "--num-envs", str(args.num_envs), "--max-iterations", str(args.iterations),
               "--device", args.device, "--seed", str(args.seed), "--run-name", "learning", "--runs-dir", runs_dir]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(proc.stdout[-3000:] + proc.stderr[-3000:])
    run_dir = Path(runs_dir) / args.task / "learning"
    curve = read_curve(run_dir / "summaries")
    rewards = [value for _, value in curve["rewards/iter"]]
    fps = [value for _, value in curve.get("performance/step_inference_rl_update_fps", [])][2:]
    tail = rewards[-max(len(rewards) // 10, 1):]
    machine = f"{socket.gethostname()}-{args.device.split(':')[0]}"
    result = {
        "task": args.task,
        "num_envs": args.num_envs,
        "iterations": args.iterations,
        "device": args.device,
        "machine": {"host": socket.gethostname(), "cpu": platform.processor() or platform.machine(), "gpu": _gpu_name()},
        "command": " ".join(sys.argv),
        "random_policy": baseline,
        "first_epoch_mean_return": rewards[0],
        "final_mean_return": statistics.mean(tail),
        "improvement_over_random": statistics.mean(tail) - baseline["mean_return"],
        "training_frames_per_s": spread(fps) if fps else None,
        "curve": {tag: series for tag, series in curve.items() if tag.endswith("/iter") or "success" in tag or tag.startswith("Episode")},
    }
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"learning-{args.task}-{machine}"
    with atomic_path(stem.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(result, indent=1))
    plot(curve, baseline["mean_return"], f"{args.task}, {args.num_envs} envs, {args.device}", stem.with_suffix(".png"))
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=1))


def _gpu_name() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


if __name__ == "__main__":
    main()
