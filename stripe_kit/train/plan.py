"""Planning a run: the options a user gives, checked, and the configs and run directory they resolve to.

:func:`plan_run` turns :class:`TrainOptions` (CLI flags, GUI fields, a notebook's arguments) into a :class:`RunPlan`:
the task's Isaac Lab env config and rl_games agent config with the overrides applied, the device, physics backend
and frontend, and the run directory (a new one, or the resumed run's, whose ``run.json`` fixes what it was trained
with). Nothing here starts a simulation.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import SpecError, check_number
from ..task.spec import PHYSICS_BACKENDS, REGISTERED, TrainingSpec
from .checkpoint import LAST, CheckpointError, check_model_shapes, check_task, load_checkpoint
from .frontend import check_frontend, resolve_frontend
from .overrides import apply_agent_config_overrides, apply_env_overrides, apply_spec_overrides, parse_overrides
from .tasks import load_recorded_sources, load_tasks, task_source

DEFAULT_TASK = "Stripe-Forest-Walk-Ant"
DEFAULT_SEED = 42
PROGRESS_MODES = ("auto", "bar", "lines", "off")


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
    frontend: str | None = None
    """``torch`` or ``warp`` (Isaac Lab's Warp frontend, Newton only); the faster one on the device when None (see
    :mod:`stripe_kit.train.frontend`)."""
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
        check_frontend(self.frontend, self.physics)
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
    frontend: str
    """``torch`` or ``warp`` (see :mod:`stripe_kit.train.frontend`)."""
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
    frontend = resolve_frontend(options.frontend, device, physics)
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
        frontend=frontend, run_dir=run_dir, env_cfg=env_cfg, agent_cfg=agent_cfg, overrides=overrides,
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
