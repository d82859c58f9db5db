"""Train a registered task with rl_games PPO through Isaac Lab's wrapper, into a self-describing run directory.

A run directory holds the resolved env and agent configs, ``run.json`` (task, seed, device, package versions,
command), rl_games' checkpoints under ``nn/`` and its TensorBoard logs under ``summaries/``.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import platform
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import SpecError, check_number
from ..task.spec import PHYSICS_BACKENDS, REGISTERED, TrainingSpec
from .tasks import load_tasks

KEY_PACKAGES = ("isaaclab", "newton", "warp-lang", "mujoco-warp", "torch", "rl-games", "numpy", "usd-core")
"""Packages whose versions are recorded with every run."""


@dataclasses.dataclass
class TrainOptions:
    """What to train and how; every field has a value a headless cluster job can use as is."""

    task: str
    num_envs: int | None = None
    """Environments; the task's default when None."""
    device: str | None = None
    """``cpu`` or ``cuda[:N]``; CUDA when available, else CPU, when None."""
    seed: int = 42
    max_iterations: int | None = None
    """PPO epochs; the task's agent default when None."""
    physics: str | None = None
    """Physics backend; the task's default when None."""
    run_name: str | None = None
    """Name of the run directory; a timestamp when None."""
    runs_dir: str = "runs"
    """Root of the run directories."""

    def validate(self) -> TrainingSpec:
        """Check every option, naming the bad one; returns the task's spec."""
        load_tasks()
        if self.task not in REGISTERED:
            raise SpecError("task", self.task, f"one of {', '.join(sorted(REGISTERED)) or '(no task registered)'}")
        if self.num_envs is not None:
            check_number("num_envs", self.num_envs, 1, 65536, integer=True)
        if self.device is not None and not (self.device == "cpu" or self.device.split(":")[0] == "cuda"):
            raise SpecError("device", self.device, "cpu, cuda or cuda:N")
        if self.device is not None and self.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise SpecError("device", self.device, "cpu (no CUDA device is available)")
        check_number("seed", self.seed, 0, 2**31 - 1, integer=True)
        if self.max_iterations is not None:
            check_number("max_iterations", self.max_iterations, 1, 10**9, integer=True)
        if self.physics is not None and self.physics not in PHYSICS_BACKENDS:
            raise SpecError("physics", self.physics, f"one of {', '.join(PHYSICS_BACKENDS)}")
        if self.run_name is not None and (not self.run_name or "/" in self.run_name or self.run_name.startswith(".")):
            raise SpecError("run_name", self.run_name, "a plain directory name")
        return REGISTERED[self.task]


@dataclasses.dataclass
class RunResult:
    """Where a finished run left its outputs."""

    run_dir: Path
    checkpoint: Path | None
    logs: Path
    epochs: int


def train(options: TrainOptions) -> RunResult:
    """Build the task's env, train it with rl_games PPO and return where the outputs are.

    The env is created and trained in the calling thread (Isaac Lab's stage is thread-local).
    """
    spec = options.validate()
    from ..task.agent import default_device

    device = options.device or default_device()
    run_dir = _new_run_dir(options)
    env_cfg = spec.env_cfg(num_envs=options.num_envs, device=device, physics=options.physics)
    env_cfg.seed = options.seed
    agent_cfg = spec.agent_cfg(options.task.lower().replace("-", "_"), device=device)
    config = agent_cfg["params"]["config"]
    agent_cfg["params"]["seed"] = options.seed
    if options.max_iterations is not None:
        config["max_epochs"] = options.max_iterations
    config["train_dir"] = str(run_dir.parent)
    config["full_experiment_name"] = run_dir.name
    _write_snapshot(run_dir, options, env_cfg, agent_cfg, device)

    import gymnasium as gym
    from isaaclab.app import launch_simulation
    from isaaclab_rl.rl_games import RlGamesVecEnvWrapper, register_rl_games_env
    from rl_games.common.algo_observer import IsaacAlgoObserver
    from rl_games.torch_runner import Runner

    started = time.time()
    with launch_simulation(env_cfg, {"headless": True, "device": device}):
        env = gym.make(options.task, cfg=env_cfg)
        try:
            wrapped = RlGamesVecEnvWrapper.from_agent_cfg(env.unwrapped, agent_cfg)
            register_rl_games_env(wrapped)
            config["num_actors"] = wrapped.unwrapped.num_envs
            runner = Runner(IsaacAlgoObserver())
            runner.load(agent_cfg)
            runner.reset()
            runner.run({"train": True, "play": False, "sigma": None})
        finally:
            env.close()
    checkpoints = sorted((run_dir / "nn").glob("*.pth"), key=os.path.getmtime)
    result = RunResult(run_dir, checkpoints[-1] if checkpoints else None, run_dir / "summaries", config["max_epochs"])
    _update_manifest(run_dir, {"status": "finished", "train_seconds": round(time.time() - started, 1)})
    return result


def _new_run_dir(options: TrainOptions) -> Path:
    name = options.run_name or datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    run_dir = Path(options.runs_dir).resolve() / options.task / name
    if run_dir.exists():
        raise SpecError("run_name", name, f"a name not used yet under {run_dir.parent}")
    run_dir.mkdir(parents=True)
    return run_dir


def _write_snapshot(run_dir: Path, options: TrainOptions, env_cfg: Any, agent_cfg: dict, device: str) -> None:
    """Write the resolved configs and the run manifest (atomically: temp file, then rename)."""
    from isaaclab.utils.io import dump_yaml

    params = run_dir / "params"
    params.mkdir()
    dump_yaml(str(params / "env.yaml"), env_cfg)
    dump_yaml(str(params / "agent.yaml"), agent_cfg)
    manifest = {
        "task": options.task,
        "seed": options.seed,
        "device": device,
        "num_envs": env_cfg.scene.num_envs,
        "physics": options.physics or "newton",
        "max_epochs": agent_cfg["params"]["config"]["max_epochs"],
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in KEY_PACKAGES},
        "started": datetime.now().isoformat(timespec="seconds"),
        "status": "running",
    }
    write_json_atomic(run_dir / "run.json", manifest)


def _update_manifest(run_dir: Path, changes: dict) -> None:
    path = run_dir / "run.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    write_json_atomic(path, manifest)


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON to a temporary name beside ``path`` and rename it, so no half-written file is ever seen."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
