"""Train a registered task with rl_games PPO through Isaac Lab's wrapper, into a self-describing run directory.

A run directory ``<runs_dir>/<task>/<name>`` holds:

* ``run.json``: task, seed, device, overrides, package versions, command, status, epochs done;
* ``params/env.yaml`` and ``params/agent.yaml``: the resolved configs;
* ``nn/last.pth`` (written atomically every epoch), ``nn/epoch_<N>.pth`` (every ``agent.save_frequency`` epochs and
  at the end) and ``nn/best.pth`` (best mean reward so far);
* ``summaries/``: rl_games' TensorBoard logs; ``metrics.jsonl``: one line per epoch; ``learning_curve.png``.

:func:`train` is the one code path of the CLI, of :class:`~stripe_kit.train.session.TrainingSession` and of
:class:`~stripe_kit.train.stepper.SteppedTraining`: it builds the env and trains in the calling thread (Isaac Lab's
stage is thread-local) or, given an :class:`EnvHost` such as the stepper's, has the env built and stepped on the
host's thread; it ends at ``max_epochs``, at the epoch boundary after :meth:`TrainControl.request_stop`, or on an
error, and resumes a run from ``nn/last.pth`` with its optimizer, learning rate, normalisers, counters, RNG and terrain
curriculum.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import socket
import sys
import threading
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ..errors import SpecError
from ..files import atomic_path
from .checkpoint import remove_stale_temporaries
from .console import CONSOLE_LOG, thread_stdout_to
from .control import TrainControl
from .frontend import make_env
from .plan import RunPlan, RunResult, TrainOptions, plan_run, read_manifest

KEY_PACKAGES = ("isaaclab", "newton", "warp-lang", "mujoco-warp", "torch", "rl-games", "numpy", "usd-core")
"""Packages whose versions are recorded with every run."""

_RUN_LOCK = threading.Lock()
"""Held while a run is live: one simulation per process."""


class TrainingBusyError(RuntimeError):
    """A run was started while another one is live in this process."""



class EnvHost(Protocol):
    """Where a run's env lives: :func:`train` asks it for the env once and closes it once, from the training thread."""

    def open(self, plan: RunPlan, launcher_args: dict, console: Path) -> tuple[Any, Any]:
        """Launch the simulation and build ``plan``'s env; returns (unwrapped env, rl_games vec env).

        ``console`` is the run's ``console.log``, where what the build prints belongs. On an error nothing is left
        open.
        """

    def close(self) -> None:
        """Close the env and the simulation launched by :meth:`open`."""


class LocalEnvHost:
    """The env built, stepped and closed in the training thread itself (the CLI and TrainingSession)."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()

    def open(self, plan: RunPlan, launcher_args: dict, console: Path) -> tuple[Any, Any]:
        try:
            return build_env(plan, launcher_args, self._stack)
        except BaseException:
            self._stack.close()
            raise

    def close(self) -> None:
        self._stack.close()


def build_env(plan: RunPlan, launcher_args: dict, stack: contextlib.ExitStack) -> tuple[Any, Any]:
    """Launch the simulation and build the run's env wrapped for rl_games, in the calling thread.

    Returns (unwrapped env, :class:`RlGamesVecEnvWrapper`); closing ``stack`` closes the env, then the launcher.
    """
    from isaaclab.app import launch_simulation
    from isaaclab_rl.rl_games import RlGamesVecEnvWrapper

    stack.enter_context(launch_simulation(plan.env_cfg, launcher_args))
    try:
        env = make_env(plan.task, plan.env_cfg, plan.frontend)
    except BaseException:
        _clear_simulation()  # so that a later run in this process can build its env
        raise
    stack.callback(env.close)
    return env.unwrapped, RlGamesVecEnvWrapper.from_agent_cfg(env.unwrapped, plan.agent_cfg)


def train(options: TrainOptions, control: TrainControl | None = None, env_host: EnvHost | None = None) -> RunResult:
    """Build the task's env, train it with rl_games PPO and return where the outputs are.

    The env is created and trained in the calling thread (Isaac Lab's stage is thread-local), or by ``env_host``
    (:class:`~stripe_kit.train.stepper.SteppedTraining` builds and steps it on an event loop's thread). The run ends at
    ``max_epochs``, after ``control.request_stop()`` (at the next epoch boundary, with a checkpoint), or on an error,
    which is raised after the run directory records it.

    Raises:
        SpecError: For bad options, overrides or checkpoints (one line, naming the value).
        TrainingBusyError: If another run is live in this process.
        NonFiniteError: If observations, rewards or losses became NaN; the last good checkpoint is kept.
    """
    control = control or TrainControl()
    if not _RUN_LOCK.acquire(blocking=False):
        raise TrainingBusyError("another training run is live in this process (one simulation per process); "
                                "stop it or wait for it to end")
    try:
        return _train(options, control, env_host or LocalEnvHost())
    finally:
        _RUN_LOCK.release()


def _train(options: TrainOptions, control: TrainControl, env_host: EnvHost) -> RunResult:
    control.update(state="starting")
    plan = plan_run(options)
    if isinstance(plan, RunResult):
        if plan.status == "finished" and options.rank == 0:
            _update_manifest(plan.run_dir, {"status": "finished", "error": None})
        control.update(state="finished", epoch=plan.epochs, frames=plan.frames, max_epochs=plan.max_epochs,
                       run_dir=str(plan.run_dir), last_checkpoint=str(plan.checkpoint))
        return plan
    control.update(run_dir=str(plan.run_dir), max_epochs=plan.max_epochs, epoch=plan.start_epoch,
                   frames=plan.start_frame,
                   last_checkpoint=str(plan.resume_checkpoint) if plan.resume_checkpoint else None)
    main_rank = plan.rank == 0
    if plan.resume_checkpoint is None:
        _create_run_dir(plan.run_dir, exist_ok=options.distributed)
    lock = _lock_run_dir(plan.run_dir) if main_rank else None
    try:
        return _train_locked(plan, options, control, main_rank, env_host)
    finally:
        if lock is not None:
            lock.close()


def _lock_run_dir(run_dir: Path):
    """An exclusive lock on ``run_dir/.lock`` (released when the process ends, even by kill -9)."""
    import fcntl

    file = open(run_dir / ".lock", "a+")  # noqa: SIM115 - held for the run, closed by the caller
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        file.close()
        raise SpecError("run", str(run_dir), "", message="another process is training this run directory") from None
    return file


def _train_locked(plan: RunPlan, options: TrainOptions, control: TrainControl, main_rank: bool,
                  env_host: EnvHost) -> RunResult:
    from .algo import RunContext
    from .monitor import METRICS_FILE, MetricsFile, Progress, read_metrics

    if plan.resume_checkpoint is None:
        if main_rank:
            _write_snapshot(plan, options)
    elif main_rank:
        remove_stale_temporaries(plan.run_dir / "nn")
        manifest = read_manifest(plan.run_dir)
        resumes = manifest.get("resumes", []) + [{"from_epoch": plan.start_epoch, "at": _now(), "command": _command()}]
        _update_manifest(plan.run_dir, {"status": "running", "max_epochs": plan.max_epochs, "resumes": resumes,
                                        "pid": os.getpid(), "host": socket.gethostname(), "error": None,
                                        "tasks": plan.tasks})

    metadata = {
        "format": 1, "task": plan.task, "run": plan.run_dir.name, "seed": plan.seed, "num_envs": plan.num_envs,
        "overrides": plan.overrides, "tasks": plan.tasks, "stripe_kit": _version("stripe-kit"),
    }
    context = RunContext(
        run_dir=plan.run_dir, control=control, metadata=metadata, max_epochs=plan.max_epochs,
        checkpoint_every=options.checkpoint_every, keep_every=plan.keep_every, curve_every=options.curve_every,
        resume_from=plan.resume_checkpoint, rank=plan.rank,
        video_every=options.video_every, video_length=options.video_length,
        last_checkpoint=plan.resume_checkpoint, checkpoint_epoch=plan.start_epoch if plan.resume_checkpoint else None,
    )
    control.context = context
    if main_rank:
        context.metrics = MetricsFile(plan.run_dir / METRICS_FILE, plan.start_epoch if plan.resume_checkpoint else None)
        rewards = [r["mean_reward"] for r in context.metrics.history if r.get("mean_reward") is not None]
        context.best_reward = max(rewards) if rewards else None
        if context.metrics.history:
            context.time_offset = float(context.metrics.history[-1].get("time_s") or 0.0)
        if options.progress != "off":
            context.progress = Progress(plan.max_epochs, plan.start_epoch, options.progress, label=plan.task)

    error: BaseException | None = None
    started = time.time()
    launcher_args = {"headless": True, "device": plan.device, "distributed": options.distributed}
    console = plan.run_dir / (CONSOLE_LOG if main_rank else f"console.rank{plan.rank}.log")
    try:
        # Isaac Lab's and rl_games' prints go to console.log; the terminal keeps progress, warnings and errors
        with thread_stdout_to(console):
            _run_in_simulation(plan, context, options.distributed, env_host, launcher_args, console)
    except BaseException as exc:  # noqa: BLE001 - raised below, after the run directory records it
        error = exc
    finally:
        if context.progress is not None:
            context.progress.close()

    final_epoch, frames = plan.start_epoch, plan.start_frame
    if context.agent is not None:
        final_epoch, frames = int(context.agent.epoch_num), int(context.agent.frame)
        if error is not None:
            final_epoch = context.checkpoint_epoch or plan.start_epoch  # the failed epoch was not kept
    if error is None:
        status = "finished" if final_epoch >= plan.max_epochs else "stopped"
    elif isinstance(error, KeyboardInterrupt):
        status = "stopped"
    else:
        status = "failed"
    message = one_line(error) if error is not None else None
    if main_rank:
        try:
            context.refresh_curve()
        except Exception as curve_error:  # noqa: BLE001 - the plot must not hide the run's own outcome
            print(f"stripe-kit: learning curve not written: {curve_error}", file=sys.stderr)
        history = read_metrics(plan.run_dir / METRICS_FILE)
        _update_manifest(plan.run_dir, {
            # an abort (second Ctrl+C) is not a clean stop: batch scripts requeue 'stopped' runs only
            "status": "aborted" if isinstance(error, KeyboardInterrupt) else status,
            "epoch": final_epoch, "frames": frames, "error": message,
            "stop_reason": control.stop_reason if status == "stopped" else None,
            "train_seconds": round(time.time() - started, 1), "ended": _now(),
            "best_reward": max((r["mean_reward"] for r in history if r.get("mean_reward") is not None), default=None),
        })
        if error is not None and not isinstance(error, (SpecError, KeyboardInterrupt)):
            (plan.run_dir / "error.log").write_text("".join(traceback.format_exception(error)))
    control.update(state=status, epoch=final_epoch, frames=frames, error=message,
                   last_checkpoint=str(context.last_checkpoint) if context.last_checkpoint else None)
    if error is not None:
        raise error
    return RunResult(plan.run_dir, context.last_checkpoint, plan.run_dir / "summaries", final_epoch, status, frames,
                     plan.max_epochs, note=control.stop_reason if status == "stopped" else None)


def _run_in_simulation(plan: RunPlan, context: Any, distributed: bool, env_host: EnvHost, launcher_args: dict,
                       console: Path) -> None:
    """Have ``env_host`` build the env wrapped for rl_games, and train (or resume) until the run ends."""
    from isaaclab_rl.rl_games import register_rl_games_env
    from rl_games.torch_runner import Runner

    from .algo import StripeA2CAgent, StripeObserver

    config = plan.agent_cfg["params"]["config"]
    env, wrapped = env_host.open(plan, launcher_args, console)
    try:
        if distributed:
            config["device"] = config["device_name"] = plan.env_cfg.sim.device  # as the launcher resolved it
        context.env = env
        obs_dim = int(wrapped.observation_space.shape[0])
        action_dim = int(wrapped.action_space.shape[0])
        from .policy import checkpoint_params

        context.metadata.update(observation_dim=obs_dim, action_dim=action_dim,
                                agent_params=checkpoint_params(plan.agent_cfg))
        if plan.rank == 0:
            _update_manifest(plan.run_dir, {"observation_dim": obs_dim, "action_dim": action_dim})
        register_rl_games_env(wrapped)
        config["num_actors"] = env.num_envs
        runner = Runner(StripeObserver(context))
        runner.algo_factory.register_builder(
            "a2c_continuous", lambda **kwargs: StripeA2CAgent(context=context, **kwargs))
        runner.load(plan.agent_cfg)
        if context.control.stop_requested:
            # stopped while the env was being built: a fresh run still ends with a checkpoint, of the untrained
            # policy at epoch 0 (so --resume and play work); a resumed run keeps the one it resumed from
            if plan.resume_checkpoint is None:
                agent = runner.algo_factory.create(runner.algo_name, base_name="run", params=runner.params)
                if plan.rank == 0:
                    context.write_checkpoint(agent, int(agent.epoch_num))
            return
        context.control.update(state="running")
        args: dict[str, Any] = {"train": True, "play": False, "sigma": None}
        if plan.resume_checkpoint is not None:
            args["checkpoint"] = str(plan.resume_checkpoint)
        runner.run(args)
    finally:
        if context.video is not None:
            context.video.finish()  # a video still being recorded keeps the frames so far
        writer = getattr(context.agent, "writer", None)
        if writer is not None:
            writer.close()  # flush rl_games' TensorBoard events (it never closes its writer)
        context.env = None
        env_host.close()
        if distributed:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


def _clear_simulation() -> None:
    """Drop a SimulationContext that a failed env build left behind (one may exist per process)."""
    try:
        from isaaclab.sim import SimulationContext
    except ImportError:
        return
    if SimulationContext.instance() is not None:
        SimulationContext.clear_instance()


def one_line(error: BaseException | None) -> str | None:
    """An error as one line: SpecErrors as they are, others prefixed with their type."""
    if error is None:
        return None
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    text = " ".join(str(error).split())
    if isinstance(error, SpecError) or type(error).__name__ in ("NonFiniteError", "TrainingBusyError"):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _create_run_dir(run_dir: Path, exist_ok: bool) -> None:
    run_dir.mkdir(parents=True, exist_ok=exist_ok)
    (run_dir / "nn").mkdir(exist_ok=True)


def _write_snapshot(plan: RunPlan, options: TrainOptions) -> None:
    """Write the resolved configs and the run manifest (atomically: temp file, then rename)."""
    from isaaclab.utils.io import dump_yaml

    params = plan.run_dir / "params"
    params.mkdir(exist_ok=True)
    dump_yaml(str(params / "env.yaml"), plan.env_cfg)
    dump_yaml(str(params / "agent.yaml"), plan.agent_cfg)
    manifest = {
        "task": plan.task,
        "seed": plan.seed,
        "device": plan.device,
        "num_envs": plan.num_envs,
        "physics": plan.physics,
        "frontend": plan.frontend,
        "overrides": plan.overrides,
        "tasks": plan.tasks,
        "max_epochs": plan.max_epochs,
        "distributed": options.distributed,
        "command": _command(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in KEY_PACKAGES},
        "started": _now(),
        "status": "running",
        "epoch": 0,
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }
    write_json_atomic(plan.run_dir / "run.json", manifest)


def _update_manifest(run_dir: Path, changes: dict) -> None:
    path = run_dir / "run.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    write_json_atomic(path, manifest)


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON to a temporary name beside ``path`` and rename it, so no half-written file is ever seen."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _command() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
