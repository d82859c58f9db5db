"""Helpers of the training-runtime tests: short CPU runs, each simulation in its own process."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

FAST = [
    "agent.horizon_length=16", "agent.num_minibatches=2", "agent.mini_epochs=2", "agent.torch_compile=false",
    "agent.save_frequency=1",
]
"""Overrides that keep a CPU epoch well under a second (4 envs x 16 steps, eager PyTorch)."""
TASK = "Stripe-Forest-Walk-Ant"
TASK_OBS_DIM = 58
"""Policy observation size of TASK: height 1, velocities 6, up 1, joints 16, range ring 24, actions 8, heading 2."""


def metrics_lines(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    lines = []
    for line in path.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return lines


def wait_for_epochs(run_dir: Path, epochs: int, proc: subprocess.Popen, timeout: float = 240) -> None:
    """Wait until ``metrics.jsonl`` has ``epochs`` lines (the process must stay alive)."""
    deadline = time.monotonic() + timeout
    while len(metrics_lines(run_dir)) < epochs:
        assert proc.poll() is None, f"training ended early (rc={proc.returncode})"
        assert time.monotonic() < deadline, "training made no progress"
        time.sleep(0.05)


def start_cli(stripe_kit_bin: str, *args: str, log: Path) -> subprocess.Popen:
    """Start ``stripe-kit`` with stdout and stderr going to files (a full pipe would block the run)."""
    return subprocess.Popen([stripe_kit_bin, *args], stdout=open(log.with_suffix(".out"), "w"),
                            stderr=open(log.with_suffix(".err"), "w"), text=True)
