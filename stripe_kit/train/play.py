"""Run a checkpoint's deterministic policy for a number of episodes and report returns, lengths and success."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import SpecError, check_number
from .checkpoint import check_model_shapes, check_task, checkpoint_task, load_checkpoint
from .export import resolve_checkpoint
from .frontend import check_frontend
from .policy import run_dir_of

SUCCESS_TERM = "goal_reached"
"""Termination term whose firing counts an episode as a success."""


@dataclasses.dataclass
class PlayResult:
    """Statistics of the finished episodes (the first ``episodes`` to end)."""

    checkpoint: Path
    task: str
    epoch: int | None
    episodes: int
    mean_return: float
    std_return: float
    mean_length: float
    """Mean episode length [policy steps]."""
    step_dt: float
    success_rate: float | None
    """Fraction of episodes ended by the ``goal_reached`` termination, else the env's logged ``*success_rate``
    averaged over the episodes (None for tasks with neither)."""
    returns: list[float]
    lengths: list[int]


def play(source: str | os.PathLike, episodes: int = 10, num_envs: int | None = None, device: str | None = None,
         seed: int | None = None, overrides: tuple[str, ...] = (), tasks: tuple[str, ...] = (),
         after_step: Callable[[Any], None] | None = None, video: str | os.PathLike | None = None,
         video_length: int | None = None, frontend: str | None = None) -> PlayResult:
    """Play ``episodes`` episodes of a checkpoint (or a run directory's ``nn/last.pth``) with the mean action.

    The env is the run's task with the run's overrides (from ``run.json``) plus ``overrides``; it is built in the
    calling thread. ``tasks`` are loaded first (Python files or module names); the task source the run recorded is
    loaded when its task is still unknown. ``after_step`` is called with the unwrapped env after every step (a
    benchmark's measurements). ``video`` records env 0 into that ``.mp4`` file (:mod:`stripe_kit.render`) for
    ``video_length`` frames, one episode when None; play goes on until both the episodes and the video are done.
    ``frontend`` is ``torch`` or ``warp`` (:mod:`stripe_kit.train.frontend`; the device's faster one when None).
    """
    check_number("episodes", episodes, 1, 10**6, integer=True)
    check_frontend(frontend, None)
    if video_length is not None:
        check_number("video_length", video_length, 1, 10**6, integer=True)
    if video is not None:
        from ..render.video import check_video_path

        video = check_video_path("video", video)
    if num_envs is not None:
        check_number("num_envs", num_envs, 1, 65536, integer=True)
    path = resolve_checkpoint(source)
    state = load_checkpoint(path)
    from .runner import _RUN_LOCK, TrainingBusyError

    task, _, manifest, run_overrides = checkpoint_run(path, state, tasks)
    if video is not None and manifest.get("physics") == "physx":
        raise SpecError("video", str(video), "a run on Newton physics (videos draw the robot from the Newton model)")
    num_envs = num_envs or min(episodes, 16)
    seed = manifest.get("seed", 42) if seed is None else seed
    plan = _plan(task, num_envs, device, seed, run_overrides + list(overrides), manifest.get("physics"), frontend)
    if not _RUN_LOCK.acquire(blocking=False):
        raise TrainingBusyError("a training run is live in this process; play needs the process's one simulation")
    try:
        outcome: list[Any] = []
        error: BaseException | None = None
        from isaaclab.app import launch_simulation

        with launch_simulation(plan.env_cfg, {"headless": True, "device": plan.device}):
            try:
                outcome.append(_play(plan, state, path, episodes, after_step, video, video_length))
            except BaseException as exc:  # noqa: BLE001 - raised below, after the launcher closed, without its traceback print
                error = exc
        if error is not None:
            raise error
    finally:
        _RUN_LOCK.release()
    returns, lengths, successes, step_dt = outcome[0]
    mean = sum(returns) / len(returns)
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / len(returns))
    return PlayResult(
        checkpoint=path, task=task, epoch=state.get("epoch"), episodes=len(returns), mean_return=mean,
        std_return=std, mean_length=sum(lengths) / len(lengths), step_dt=step_dt,
        success_rate=(sum(successes) / len(successes)) if successes is not None else None,
        returns=returns, lengths=lengths,
    )


@dataclasses.dataclass
class _PlayPlan:
    task: str
    device: str
    env_cfg: Any
    agent_cfg: dict
    frontend: str


def _plan(task: str, num_envs: int, device: str | None, seed: int, overrides: list[str], physics: str | None,
          frontend: str | None = None) -> _PlayPlan:
    from ..task.agent import default_device
    from ..task.spec import REGISTERED
    from .frontend import resolve_frontend
    from .plan import TrainOptions, resolve_configs

    TrainOptions(task=task, num_envs=num_envs, device=device, seed=seed, physics=physics, frontend=frontend,
                 overrides=tuple(overrides)).validate()
    device = device or default_device()
    _, env_cfg, agent_cfg = resolve_configs(task, num_envs, device, seed, physics, overrides)
    frontend = resolve_frontend(frontend, device, physics or REGISTERED[task].sim.physics)
    return _PlayPlan(task, device, env_cfg, agent_cfg, frontend)


def checkpoint_run(path: Path, state: dict, tasks: Sequence[str] = ()) -> tuple[str, Path | None, dict, list[str]]:
    """The task, run directory, manifest and overrides of a loaded checkpoint, its task's sources loaded.

    Args:
        path: The checkpoint file.
        state: The loaded checkpoint.
        tasks: Modules or files of tasks to load first (``--tasks``).

    Raises:
        SpecError: If the task is unknown or is not the checkpoint's.
    """
    from .plan import read_manifest
    from .tasks import load_recorded_sources, load_tasks

    load_tasks(tasks)
    run_dir = run_dir_of(path)
    manifest = read_manifest(run_dir) if run_dir else {}
    task = manifest.get("task") or checkpoint_task(state)
    if task is None:
        raise SpecError("checkpoint", str(path), "a STRIPE-kit checkpoint or run directory (its task is unknown)")
    if run_dir is not None:
        load_recorded_sources(task, manifest.get("tasks") or [], str(run_dir / "run.json"))
    load_recorded_sources(task, (state.get("stripe") or {}).get("tasks") or [], str(path))
    check_task(state, path, task)
    overrides = list(manifest.get("overrides") or (state.get("stripe") or {}).get("overrides") or [])
    return task, run_dir, manifest, overrides


def make_player(plan: Any, state: dict, path: Path) -> tuple[Any, Any, Any]:
    """The plan's env, its rl_games wrapper and an rl_games player holding the checkpoint's weights.

    The caller closes the env (it is closed here only when making the player fails).
    """
    from isaaclab_rl.rl_games import RlGamesVecEnvWrapper
    from rl_games.torch_runner import Runner

    from .frontend import make_env

    env = make_env(plan.task, plan.env_cfg, plan.frontend)
    try:
        wrapped = RlGamesVecEnvWrapper.from_agent_cfg(env.unwrapped, plan.agent_cfg)
        config = plan.agent_cfg["params"]["config"]
        config["num_actors"] = env.unwrapped.num_envs
        config["env_info"] = wrapped.get_env_info()
        config["vec_env"] = None
        runner = Runner()
        runner.load(plan.agent_cfg)
        player = runner.create_player()
        check_model_shapes(state, path, player.model.state_dict())
        player.model.load_state_dict(state["model"])
        player.model.eval()
        player.has_batch_dimension = True
    except BaseException:
        env.close()
        raise
    return env, wrapped, player


def _play(plan: Any, state: dict, path: Path, episodes: int, after_step: Callable[[Any], None] | None = None,
          video: Path | None = None, video_length: int | None = None) -> tuple[list[float], list[int], list | None, float]:
    import torch

    env, wrapped, player = make_player(plan, state, path)
    try:
        unwrapped = env.unwrapped
        goal = SUCCESS_TERM in unwrapped.termination_manager.active_terms
        device = unwrapped.device
        returns_now = torch.zeros(unwrapped.num_envs, device=device)
        lengths_now = torch.zeros(unwrapped.num_envs, dtype=torch.long, device=device)
        returns: list[float] = []
        lengths: list[int] = []
        successes: list[bool] = []
        rates: list[float] = []
        max_steps = int(unwrapped.max_episode_length) * (math.ceil(episodes / unwrapped.num_envs) + 1) + 10
        obs = wrapped.reset()["obs"]
        recorder = None
        if video is not None:
            from ..render.recorder import VideoRecorder

            video_length = video_length or int(unwrapped.max_episode_length)
            max_steps = max(max_steps, video_length + 1)
            recorder = VideoRecorder(unwrapped)
            recorder.start(video, video_length)
        with torch.inference_mode():
            for _ in range(max_steps):
                actions = player.get_action(obs, is_deterministic=True)
                obs_dict, rewards, dones, extras = wrapped.step(actions)
                if after_step is not None:
                    after_step(unwrapped)
                if recorder is not None:
                    recorder.capture()
                obs = obs_dict["obs"]
                returns_now += rewards.to(device).reshape(-1)
                lengths_now += 1
                ended = dones.to(device).reshape(-1).nonzero().flatten()
                if ended.numel():
                    reached = unwrapped.termination_manager.get_term(SUCCESS_TERM)[ended] if goal else None
                    returns.extend(returns_now[ended].tolist())
                    lengths.extend(lengths_now[ended].tolist())
                    if reached is not None:
                        successes.extend(bool(x) for x in reached.tolist())
                    else:  # tasks that log a success rate over the episodes that just ended
                        logged = [v for k, v in (extras.get("episode") or {}).items() if k.endswith("success_rate")]
                        if logged:
                            rates.extend([float(torch.as_tensor(logged[0]).float().mean())] * int(ended.numel()))
                    returns_now[ended] = 0.0
                    lengths_now[ended] = 0
                if len(returns) >= episodes and (recorder is None or not recorder.recording):
                    break
        if recorder is not None:
            recorder.finish()
        if not returns:
            raise RuntimeError(f"no episode ended within {max_steps} steps")
        success = successes[:episodes] if goal else (rates[:episodes] or None)
        return returns[:episodes], lengths[:episodes], success, float(unwrapped.step_dt)
    finally:
        env.close()
