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
import dataclasses
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

from ..errors import SpecError, check_number
from ..files import atomic_path
from ..task.spec import PHYSICS_BACKENDS, REGISTERED, TrainingSpec
from .checkpoint import LAST, CheckpointError, check_model_shapes, check_task, load_checkpoint, remove_stale_temporaries
from .console import CONSOLE_LOG, thread_stdout_to
from .control import TrainControl
from .overrides import apply_agent_config_overrides, apply_env_overrides, apply_spec_overrides, parse_overrides
from .tasks import load_recorded_sources, load_tasks, task_source

KEY_PACKAGES = ("isaaclab", "newton", "warp-lang", "mujoco-warp", "torch", "rl-games", "numpy", "usd-core")
"""Packages whose versions are recorded with every run."""
DEFAULT_TASK = "Stripe-Forest-Walk-Ant"
DEFAULT_SEED = 42
PROGRESS_MODES = ("auto", "bar", "lines", "off")

_RUN_LOCK = threading.Lock()
"""Held while a run is live: one simulation per process."""


class TrainingBusyError(RuntimeError):
    """A run was started while another one is live in this process."""


@dataclasses.dataclass
class TrainOptions:
    """What to train and how; every field has a value a headless cluster job can use as is."""

    task: str | None = None
    """Task id; ``Stripe-Forest-Walk-Ant`` when None (the run's own task with ``resume``)."""
    num_envs: int | None = None
    """Environments; the task's default when None."""
    device: str | None = None
    """``cpu`` or ``cuda[:N]``; CUDA when available, else CPU, when None."""
    seed: int | None = None
    """Seed of the scene, env and agent; 42 when None."""
    max_iterations: int | None = None
    """Total PPO epochs (a resumed run continues up to it); the task's agent default when None."""
    physics: str | None = None
    """Physics backend; the task's default when None."""
    run_name: str | None = None
    """Name of the run directory; a timestamp when None."""
    runs_dir: str = "runs"
    """Root of the run directories."""
    overrides: tuple[str, ...] = ()
    """Config overrides ``key=value`` (see :mod:`stripe_kit.train.overrides`)."""
    resume: str | None = None
    """Run directory to continue from its ``nn/last.pth`` (task, envs, seed and overrides come from the run)."""
    distributed: bool = False
    """Multi-GPU through rl_games' ``multi_gpu`` mode, one process per GPU launched by ``torchrun``."""
    progress: str = "off"
    """Console progress: ``bar`` (rich), ``lines`` (plain, for logs), ``auto`` (bar on a terminal) or ``off``."""
    checkpoint_every: int = 1
    """Epochs between writes of ``nn/last.pth``."""
    curve_every: int = 10
    """Epochs between refreshes of ``learning_curve.png`` (it is written at the end too)."""
    video_every: int | None = None
    """Epochs between videos of env 0 written to ``RUN_DIR/videos/epoch_<N>.mp4`` (None: no videos)."""
    video_length: int | None = None
    """Frames of each video (one per policy step); 200 (Isaac Lab's default, at most one episode) when None."""
    tasks: tuple[str, ...] = ()
    """Python files or module names defining tasks, loaded besides the installed task packages and
    ``STRIPE_KIT_TASKS`` (see :mod:`stripe_kit.train.tasks`). The one that registered the trained task is recorded in
    ``run.json``, so resume, play and export find the task again."""

    @property
    def rank(self) -> int:
        """This process's rank under ``torchrun`` (``RANK``) when distributed, else 0; rank 0 owns the run directory."""
        return int(os.getenv("RANK", "0")) if self.distributed else 0

    def validate(self) -> TrainingSpec:
        """Check every option, naming the bad one; returns the spec of the task to train."""
        if isinstance(self.tasks, str):
            raise SpecError("tasks", self.tasks, "a sequence of Python files or module names (not one string)")
        load_tasks(self.tasks)
        if self.num_envs is not None:
            check_number("num_envs", self.num_envs, 1, 65536, integer=True)
        if self.device is not None and not (self.device == "cpu" or self.device.split(":")[0] == "cuda"):
            raise SpecError("device", self.device, "cpu, cuda or cuda:N")
        if self.device is not None and self.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise SpecError("device", self.device, "cpu (no CUDA device is available)")
        if self.seed is not None:
            check_number("seed", self.seed, 0, 2**31 - 1, integer=True)
        if self.max_iterations is not None:
            check_number("max_iterations", self.max_iterations, 1, 10**9, integer=True)
        if self.physics is not None and self.physics not in PHYSICS_BACKENDS:
            raise SpecError("physics", self.physics, f"one of {', '.join(PHYSICS_BACKENDS)}")
        if self.run_name is not None and (not self.run_name or "/" in self.run_name or self.run_name.startswith(".")):
            raise SpecError("run_name", self.run_name, "a plain directory name")
        if self.distributed and self.device is not None and not self.device.startswith("cuda"):
            raise SpecError("device", self.device, "cuda with --distributed (rl_games' multi-GPU mode runs on NCCL)")
        if self.progress not in PROGRESS_MODES:
            raise SpecError("progress", self.progress, f"one of {', '.join(PROGRESS_MODES)}")
        check_number("checkpoint_every", self.checkpoint_every, 1, 10**6, integer=True)
        check_number("curve_every", self.curve_every, 0, 10**6, integer=True)
        if self.video_every is not None:
            check_number("video_every", self.video_every, 1, 10**6, integer=True)
        if self.video_length is not None:
            check_number("video_length", self.video_length, 1, 10**6, integer=True)
        if self.video_every is not None and self.physics == "physx":
            raise SpecError("video_every", self.video_every, "no videos with physics 'physx' (videos draw the robot "
                            "from the Newton model)")
        parse_overrides(self.overrides)
        task = self.task
        if self.resume is not None:
            manifest = read_manifest(self.resume)
            task = manifest["task"]
            if self.task is not None and self.task != task:
                raise SpecError("task", self.task, f"the resumed run's task {task} (or no --task with --resume)")
            load_recorded_sources(task, manifest.get("tasks") or [], str(Path(self.resume).expanduser() / "run.json"))
        task = task or DEFAULT_TASK
        if task not in REGISTERED:
            raise SpecError("task", task, f"one of {', '.join(sorted(REGISTERED)) or '(no task registered)'}")
        return REGISTERED[task]


@dataclasses.dataclass
class RunResult:
    """Where a run left its outputs and how it ended."""

    run_dir: Path
    checkpoint: Path | None
    logs: Path
    epochs: int
    """Epochs done (those before a resume included)."""
    status: str = "finished"
    """``finished`` (reached max epochs), ``stopped`` (on request) or ``failed``."""
    frames: int = 0
    max_epochs: int | None = None
    note: str | None = None


@dataclasses.dataclass
class RunPlan:
    """A validated run: the resolved configs and where it goes."""

    task: str
    spec: TrainingSpec
    device: str
    seed: int
    num_envs: int
    physics: str
    run_dir: Path
    env_cfg: Any
    agent_cfg: dict
    overrides: list[str]
    max_epochs: int
    keep_every: int
    rank: int
    tasks: list[str] = dataclasses.field(default_factory=list)
    """Source that registered the task (a file or module; none for installed tasks), recorded in ``run.json``."""
    resume_checkpoint: Path | None = None
    start_epoch: int = 0
    start_frame: int = 0


def read_manifest(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The ``run.json`` of a run directory; a SpecError naming the directory if it is not a run."""
    path = Path(run_dir).expanduser() / "run.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        raise SpecError("resume", str(run_dir), "a run directory holding run.json (see 'stripe-kit runs')") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("task"), str):
        raise SpecError("resume", str(run_dir), "a run directory whose run.json names its task")
    return manifest


def plan_run(options: TrainOptions) -> RunPlan | RunResult:
    """Validate the options and resolve the configs (a RunResult when a resumed run has nothing left to do)."""
    from ..task.agent import default_device

    options.validate()
    rank = options.rank
    resume_checkpoint, start_epoch, start_frame = None, 0, 0
    if options.resume is not None:
        run_dir = Path(options.resume).expanduser().resolve()
        manifest = read_manifest(run_dir)
        task = manifest["task"]
        for name, given, recorded in (("num_envs", options.num_envs, manifest.get("num_envs")),
                                      ("seed", options.seed, manifest.get("seed")),
                                      ("physics", options.physics, manifest.get("physics"))):
            if given is not None and given != recorded:
                raise SpecError(name, given, f"the resumed run's {recorded} (or leave it out with --resume)")
        if options.overrides and list(options.overrides) != list(manifest.get("overrides", [])):
            raise SpecError("overrides", " ".join(options.overrides),
                            "none with --resume (the run's own overrides are applied)")
        num_envs, seed, physics = manifest["num_envs"], manifest["seed"], manifest.get("physics") or "newton"
        overrides = list(manifest.get("overrides", []))
        recorded_tasks = list(manifest.get("tasks") or [])
        device = options.device or manifest.get("device") or default_device()
        if device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                device = "cpu"
        resume_checkpoint = run_dir / "nn" / LAST
        if not resume_checkpoint.is_file():
            raise CheckpointError(resume_checkpoint,
                                  "no checkpoint to resume from (the run ended before its first epoch)")
        state = load_checkpoint(resume_checkpoint)
        check_task(state, resume_checkpoint, task)
        start_epoch, start_frame = int(state.get("epoch", 0)), int(state.get("frame", 0))
        max_epochs = options.max_iterations or manifest.get("max_epochs")
    else:
        task = options.task or DEFAULT_TASK
        seed = DEFAULT_SEED if options.seed is None else options.seed
        device = options.device or default_device()
        physics = options.physics or REGISTERED[task].sim.physics
        overrides = list(options.overrides)
        run_dir = _run_dir_path(options, task)
        num_envs = options.num_envs
        max_epochs = options.max_iterations
        state = None
        recorded_tasks = []

    if options.distributed and not device.startswith("cuda"):
        raise SpecError("distributed", True, "CUDA devices (rl_games' multi-GPU mode runs on NCCL; none is available)")
    spec, env_cfg, agent_cfg = resolve_configs(task, num_envs, device, seed, physics, overrides, rank)
    config = agent_cfg["params"]["config"]
    if max_epochs is not None:
        config["max_epochs"] = int(max_epochs)
    keep_every = int(config.get("save_frequency", 0) or 0)
    config["save_frequency"] = 0  # checkpoints are written by the observer (atomically, every epoch)
    config["save_best_after"] = 10**12
    config["print_stats"] = False
    config["train_dir"] = str(run_dir.parent)
    config["full_experiment_name"] = run_dir.name
    if options.distributed:
        config["multi_gpu"] = True
    plan = RunPlan(
        task=task, spec=spec, device=device, seed=seed, num_envs=env_cfg.scene.num_envs, physics=physics,
        run_dir=run_dir, env_cfg=env_cfg, agent_cfg=agent_cfg, overrides=overrides,
        max_epochs=int(config["max_epochs"]), keep_every=keep_every, rank=rank,
        tasks=[task_source(task)] if task_source(task) else recorded_tasks,
        resume_checkpoint=resume_checkpoint, start_epoch=start_epoch, start_frame=start_frame,
    )
    if state is not None:
        _check_resume_network(plan, state, manifest)
        if start_epoch >= plan.max_epochs:
            return RunResult(run_dir, resume_checkpoint, run_dir / "summaries", start_epoch, "finished", start_frame,
                             plan.max_epochs, note=f"the run is at epoch {start_epoch} of {plan.max_epochs}; "
                             "pass a larger --max-iterations to train further")
    return plan


def resolve_configs(task: str, num_envs: int | None, device: str, seed: int, physics: str | None,
                    overrides: list[str] | tuple[str, ...], rank: int = 0) -> tuple[TrainingSpec, Any, dict]:
    """The task's spec, Isaac Lab env config and rl_games agent config with the overrides applied."""
    parsed = parse_overrides(overrides)
    spec = REGISTERED[task]
    if physics is not None:  # the backend first, so that overrides are checked against it
        spec = spec.replace(sim=spec.sim.for_backend(physics))
    spec = apply_spec_overrides(spec, parsed)
    env_cfg = spec.env_cfg(num_envs=num_envs, device=device, physics=physics)
    env_cfg.seed = seed
    agent_cfg = spec.agent_cfg(task.lower().replace("-", "_"), device=device)
    params = agent_cfg["params"]
    params["seed"] = seed
    apply_agent_config_overrides(spec, agent_cfg, parsed)
    apply_env_overrides(env_cfg, parsed)
    if rank:
        params["seed"] += rank
        env_cfg.seed = params["seed"]
    return spec, env_cfg, agent_cfg


def _check_resume_network(plan: RunPlan, state: dict, manifest: dict) -> None:
    """Before any simulation starts: the checkpoint's weights fit the run's network."""
    obs_dim, action_dim = manifest.get("observation_dim"), manifest.get("action_dim")
    if not obs_dim or not action_dim:
        return  # checked against the live agent once the env exists
    from .policy import build_model, checkpoint_params

    model = build_model(checkpoint_params(plan.agent_cfg), obs_dim, action_dim)
    check_model_shapes(state, plan.resume_checkpoint, model.state_dict())


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
    import gymnasium as gym
    from isaaclab.app import launch_simulation
    from isaaclab_rl.rl_games import RlGamesVecEnvWrapper

    stack.enter_context(launch_simulation(plan.env_cfg, launcher_args))
    try:
        env = gym.make(plan.task, cfg=plan.env_cfg)
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


def _run_dir_path(options: TrainOptions, task: str) -> Path:
    name = options.run_name
    if name is None and options.distributed:
        name = os.getenv("STRIPE_RUN_NAME") or os.getenv("SLURM_JOB_ID") or os.getenv("TORCHELASTIC_RUN_ID")
        if not name or name == "none":
            raise SpecError("run_name", None, "a name with --distributed (all ranks must share one run directory)")
    name = name or datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    run_dir = Path(options.runs_dir).expanduser().resolve() / task / name
    # under --distributed every rank creates the directory (any may come first); only a written run.json is a run
    taken = (run_dir / "run.json").exists() if options.distributed else run_dir.exists()
    if taken and options.rank == 0:
        raise SpecError("run_name", name, f"a name not used yet under {run_dir.parent} (or --resume {run_dir})")
    return run_dir


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
